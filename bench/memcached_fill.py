"""Load N keys (16-byte key, 32-byte value) with pipelined noreply sets; usage: fill.py PORT N."""
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
batch = 2000
val = b"x" * 32
for start in range(0, n, batch):
    s.sendall(b"".join(b"set key:%010d 0 0 32 noreply\r\n%s\r\n" % (i, val) for i in range(start, min(n, start + batch))))
s.sendall(b"mn\r\n")
buf = b""
while not buf.endswith(b"MN\r\n"):
    buf += s.recv(65536)
s.sendall(b"stats\r\n"); time.sleep(0.3); st = s.recv(65536).decode()
print([l for l in st.split("\r\n") if "curr_items" in l])
