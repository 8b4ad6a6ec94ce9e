#!/usr/bin/env python3
"""Writes users.properties and groups.properties in the format Infinispan 15's
user tool produces, computed independently of the Go code (hashlib, base64),
with fixed salts so the output is reproducible. Run from this directory."""
import base64, hashlib, unicodedata

def packed(v):
    # wildfly-common ByteStringBuilder.appendPackedUnsignedBE(int)
    out = []
    if v > 0:
        size = (v.bit_length() + 7) // 7
        for b in range((size - 1) * 7, 0, -7):
            out.append(0x80 | ((v >> b) & 0x7f))
    out.append(v & 0x7f)
    return bytes(out)

H = {"scram-sha-1": "sha1", "scram-sha-256": "sha256", "scram-sha-384": "sha384", "scram-sha-512": "sha512",
     "digest-md5": "md5", "digest-sha": "sha1", "digest-sha-256": "sha256", "digest-sha-384": "sha384",
     "digest-sha-512": "sha512"}

def cred(alg, user, realm, pw, salt):
    if alg.startswith("scram-"):
        sp = hashlib.pbkdf2_hmac(H[alg], unicodedata.normalize("NFKC", pw).encode(), salt, 20000)
        raw = b"\x05" + packed(20000) + packed(len(salt)) + salt + sp
    else:
        d = hashlib.new(H[alg], f"{user}:{realm}:{pw}".encode()).digest()
        u, r = user.encode(), realm.encode()
        raw = b"\x02" + packed(len(u)) + u + packed(len(r)) + r + d
    return alg + ":" + base64.b64encode(raw).decode() + ";"

def esc(s, key):
    out = []
    for i, c in enumerate(s):
        if c in "\\=:#!":
            out.append("\\" + c)
        elif c == " " and (key or i == 0):
            out.append("\\ ")
        else:
            out.append(c)
    return "".join(out)

ALL = list(H)
users = [("admin", "changeme", ALL), ("\u00fcn\u00efcode", "\ufb01sh", ["scram-sha-256", "digest-sha-256"]),
         ("a:b=c d", "p@ss:word=1", ["scram-sha-512", "digest-md5"])]
with open("users.properties", "w", encoding="utf-8") as f:
    f.write("#$REALM_NAME=default$\n#$ALGORITHM=encrypted$\n#Wed Jul 31 08:32:08 CEST 2024\n")
    for n, (u, pw, algs) in enumerate(users):
        v = "".join(cred(a, u, "default", pw, bytes(range(n * 16 + i, n * 16 + i + 12))) for i, a in enumerate(algs))
        f.write(esc(u, True) + "=" + esc(v, False) + "\n")
with open("groups.properties", "w", encoding="utf-8") as f:
    f.write("#Wed Jul 31 08:32:08 CEST 2024\nadmin=admin,ops\n\\u00fcn\\u00efcode=reader\na\\:b\\=c\\ d=\n")
