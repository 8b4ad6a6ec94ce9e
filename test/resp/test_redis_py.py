"""redis-py (the maintained Redis client for Python) against hotgrid's RESP
endpoint, over RESP2 (the default) and RESP3 (protocol=3).

The server address comes from HOTGRID_RESP (host:port); test/resp/run starts a
server and sets it.
"""

import os
import threading
import time

import pytest
import redis

HOST, PORT = os.environ.get("HOTGRID_RESP", "127.0.0.1:6379").rsplit(":", 1)
PORT = int(PORT)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request):
    client = redis.Redis(host=HOST, port=PORT, protocol=request.param, decode_responses=True)
    client.flushall()
    yield client
    client.close()


def other(r):
    return redis.Redis(host=HOST, port=PORT, protocol=r.connection_pool.connection_kwargs.get("protocol", 2),
                       decode_responses=True)


def test_ping_echo_info(r):
    assert r.ping() is True
    assert r.echo("hi") == "hi"
    info = r.info()
    assert info["redis_version"] == "7.2.0"
    assert info["role"] == "master"
    assert r.info("server")["redis_mode"] == "standalone"
    assert r.config_get("databases") == {"databases": "16"}
    assert r.dbsize() == 0
    assert isinstance(r.time()[0], int)


def test_strings(r):
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True) == "v"
    assert r.set("n", 1) and r.incr("n") == 2 and r.incrby("n", 10) == 12 and r.decr("n") == 11
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.append("k", "xyz") == 4
    assert r.strlen("k") == 4
    assert r.getrange("k", 1, 2) == "xy"
    assert r.setrange("k", 0, "W") == 4
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "zz") == ["1", "2", None]
    assert r.msetnx({"a": "9", "c": "3"}) is False
    assert r.getdel("a") == "1" and r.get("a") is None
    assert r.getset("b", "3") == "2"
    assert r.setnx("b", "4") is False
    assert r.lcs("k", "k") == "Wxyz"
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.incr("k")


def test_expiry(r):
    r.set("k", "v", ex=100)
    assert 99 <= r.ttl("k") <= 100
    assert 99000 <= r.pttl("k") <= 100000
    assert r.expiretime("k") > time.time()
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.expire("k", 10, nx=True) is True
    assert r.expire("k", 20, lt=True) is False
    assert r.pexpire("k", 50) is True
    time.sleep(0.1)
    assert r.exists("k") == 0
    r.setex("e", 100, "v")
    assert r.getex("e", persist=True) == "v" and r.ttl("e") == -1
    r.psetex("p", 100000, "v")
    assert r.ttl("p") > 90


def test_keys(r):
    r.mset({"user:1": "a", "user:2": "b", "x": "c"})
    assert sorted(r.keys("user:*")) == ["user:1", "user:2"]
    assert sorted(r.scan_iter(match="user:*", count=2)) == ["user:1", "user:2"]
    assert r.type("x") == "string" and r.type("none") == "none"
    assert r.exists("x", "user:1", "none") == 2
    assert r.rename("x", "y") is True
    assert r.renamenx("y", "user:1") is False
    assert r.randomkey() in {"user:1", "user:2", "y"}
    assert r.delete("user:1", "user:2") == 2
    assert r.unlink("y") == 1
    assert r.randomkey() is None
    assert r.copy("none", "dst") is False


def test_select(r):
    r.set("k", "db0")
    r.execute_command("SELECT", 3)
    assert r.get("k") is None
    r.execute_command("SELECT", 0)
    assert r.get("k") == "db0"
    db5 = redis.Redis(host=HOST, port=PORT, db=5, decode_responses=True)
    db5.set("k", "db5")
    assert db5.get("k") == "db5"
    assert r.get("k") == "db0"
    db5.close()


def test_hashes(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hget("h", "a") == "1"
    assert r.hgetall("h") == {"a": "1", "b": "2"}
    assert r.hmget("h", ["a", "x"]) == ["1", None]
    assert r.hincrby("h", "a", 5) == 6
    assert r.hincrbyfloat("h", "b", 0.5) == 2.5
    assert sorted(r.hkeys("h")) == ["a", "b"]
    assert sorted(r.hvals("h")) == ["2.5", "6"]
    assert r.hlen("h") == 2 and r.hexists("h", "a") and r.hstrlen("h", "b") == 3
    assert not r.hsetnx("h", "a", "x")
    assert r.hrandfield("h") in {"a", "b"}
    assert dict(r.hscan_iter("h")) == {"a": "6", "b": "2.5"}
    assert r.hdel("h", "a", "b") == 2 and r.exists("h") == 0
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hset("s", "a", "1")


def test_lists(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "z") == 4
    assert r.lrange("l", 0, -1) == ["z", "a", "b", "c"]
    assert r.lindex("l", 1) == "a" and r.llen("l") == 4
    assert r.lpop("l") == "z" and r.rpop("l", 2) == ["c", "b"]
    assert r.linsert("l", "after", "a", "m") == 2
    assert r.lset("l", 0, "A") is True
    assert r.lpos("l", "m") == 1
    assert r.lrem("l", 0, "m") == 1
    assert r.lmove("l", "l2", "LEFT", "RIGHT") == "A"
    assert r.rpoplpush("l2", "l3") == "A"
    assert r.lmpop(2, "none", "l3", direction="LEFT") == ["l3", ["A"]]
    r.rpush("t", 1, 2, 3, 4)
    assert r.ltrim("t", 1, 2) is True and r.lrange("t", 0, -1) == ["2", "3"]


def test_blocking(r):
    assert r.blpop(["q"], timeout=0.1) is None
    p = other(r)

    def push():
        time.sleep(0.2)
        p.rpush("q", "job")

    threading.Thread(target=push).start()
    start = time.time()
    assert r.blpop(["none", "q"], timeout=5) in (("q", "job"), ["q", "job"])
    assert time.time() - start < 4
    r.rpush("src", "v")
    assert r.blmove("src", "dst", 1, "LEFT", "RIGHT") == "v"
    assert r.brpop(["dst"], 1) in (("dst", "v"), ["dst", "v"])
    p.close()


def test_sets(r):
    assert r.sadd("s", "a", "b", "c") == 3
    assert r.smembers("s") == {"a", "b", "c"}
    assert r.sismember("s", "a") and not r.sismember("s", "x")
    assert r.smismember("s", ["a", "x"]) == [1, 0] or r.smismember("s", ["a", "x"]) == [True, False]
    assert r.scard("s") == 3
    r.sadd("t", "b", "d")
    assert r.sinter("s", "t") == {"b"}
    assert r.sunion("s", "t") == {"a", "b", "c", "d"}
    assert r.sdiff("s", "t") == {"a", "c"}
    assert r.sinterstore("i", ["s", "t"]) == 1
    assert r.sintercard(2, ["s", "t"]) == 1
    assert r.smove("s", "t", "a") is True
    assert r.srem("s", "b", "c") == 2 and r.exists("s") == 0
    assert r.spop("t") in {"a", "b", "d"}
    assert len(r.srandmember("t", 5)) == 2
    assert set(r.sscan_iter("t")) <= {"a", "b", "d"}


def test_sorted_sets(r):
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zscore("z", "b") == 2.0
    assert r.zrange("z", 0, -1) == ["a", "b", "c"]
    assert r.zrange("z", 0, -1, withscores=True) in (
        [("a", 1.0), ("b", 2.0), ("c", 3.0)], [["a", 1.0], ["b", 2.0], ["c", 3.0]])
    assert r.zrevrange("z", 0, 0) == ["c"]
    assert r.zrangebyscore("z", "(1", "+inf") == ["b", "c"]
    assert r.zrevrangebyscore("z", 3, 2) == ["c", "b"]
    assert r.zrank("z", "c") == 2 and r.zrevrank("z", "c") == 0
    assert r.zcount("z", 2, 3) == 2 and r.zcard("z") == 3
    assert r.zincrby("z", 10, "a") == 11.0
    assert r.zmscore("z", ["a", "x"]) == [11.0, None]
    assert r.zadd("z", {"b": 5}, gt=True, ch=True) == 1
    assert r.zpopmin("z") in ([("c", 3.0)], [["c", 3.0]], ["c", 3.0])
    assert r.zpopmax("z", 1) in ([("a", 11.0)], [["a", 11.0]])
    r.zadd("z2", {"b": 1, "q": 2})
    assert r.zunionstore("u", ["z", "z2"]) == 2
    assert r.zscore("u", "b") == 6.0
    assert r.zinterstore("i", {"z": 1, "z2": 2}, aggregate="MAX") == 1
    r.zadd("lex", {"a": 0, "b": 0, "c": 0})
    assert r.zrangebylex("lex", "[b", "+") == ["b", "c"]
    assert r.zlexcount("lex", "-", "+") == 3
    assert r.zremrangebylex("lex", "-", "(c") == 2
    assert r.zremrangebyscore("u", 0, 10) == 2
    assert r.zrem("z2", "b", "q") == 2
    assert list(r.zscan_iter("lex")) in ([("c", 0.0)], [["c", 0.0]])


def test_pipeline_and_transactions(r):
    with r.pipeline(transaction=False) as p:
        for i in range(100):
            p.set(f"k{i}", i)
        p.get("k99")
        assert p.execute()[-1] == "99"
    with r.pipeline() as p:
        p.set("a", 1).incr("a").get("a")
        assert p.execute() == [True, 2, "2"]
    # WATCH: a concurrent write aborts the transaction.
    o = other(r)
    with r.pipeline() as p:
        p.watch("a")
        o.set("a", 100)
        p.multi()
        p.incr("a")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("a") == "100"

    def incr(pipe):
        v = int(pipe.get("a"))
        pipe.multi()
        pipe.set("a", v + 1)

    r.transaction(incr, "a")
    assert r.get("a") == "101"
    o.close()


def test_pubsub(r):
    ps = r.pubsub()
    ps.subscribe("news")
    ps.psubscribe("n*")
    deadline = time.time() + 5
    confirmations = 0
    while confirmations < 2 and time.time() < deadline:
        m = ps.get_message(timeout=1)
        if m and m["type"] in ("subscribe", "psubscribe"):
            confirmations += 1
    assert confirmations == 2
    assert r.publish("news", "hello") == 2
    got = []
    while len(got) < 2 and time.time() < deadline:
        m = ps.get_message(timeout=1)
        if m:
            got.append((m["type"], m["channel"], m["data"]))
    assert sorted(got) == [("message", "news", "hello"), ("pmessage", "news", "hello")]
    assert r.pubsub_numsub("news") == [("news", 1)]
    assert r.pubsub_numpat() == 1
    assert r.pubsub_channels() == ["news"]
    ps.unsubscribe()
    ps.punsubscribe()
    ps.close()


def test_client(r):
    r.client_setname("tester")
    assert r.client_getname() == "tester"
    assert isinstance(r.client_id(), int)
    assert any(c["name"] == "tester" for c in r.client_list())
    assert r.client_info()["name"] == "tester"
    assert r.command_count() > 150
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOSUCH", "a")
