"""A Lithops map-reduce job on the localhost compute backend with hotgrid as
its Infinispan (REST) storage backend; also exercises the storage API.
Usage: python job.py CONFIG.yaml"""
import copy
import sys

import lithops
import yaml


def square(x):
    return x * x


def total(results):
    return sum(results)


def main(config_path):
    with open(config_path) as f:
        config = yaml.safe_load(f)

    # The node requires authentication: a wrong password is refused.
    wrong = copy.deepcopy(config)
    wrong["infinispan"]["password"] = "not-the-password"
    try:
        lithops.Storage(config=wrong).put_object("storage", "hotgrid/denied.txt", b"x")
    except Exception as e:  # Lithops raises its own errors for a 401
        print(f"wrong password refused: {type(e).__name__}")
    else:
        raise AssertionError("a wrong password was accepted")

    storage = lithops.Storage(config=config)
    storage.put_object("storage", "hotgrid/probe.txt", b"hello from lithops")
    assert storage.get_object("storage", "hotgrid/probe.txt") == b"hello from lithops"
    assert "hotgrid/probe.txt" in storage.list_keys("storage", prefix="hotgrid/")
    assert storage.head_object("storage", "hotgrid/probe.txt")["content-length"] == "18"
    storage.delete_object("storage", "hotgrid/probe.txt")
    assert "hotgrid/probe.txt" not in storage.list_keys("storage", prefix="hotgrid/")

    fexec = lithops.FunctionExecutor(config=config)
    fexec.map_reduce(square, range(20), total)
    result = fexec.get_result()
    expected = sum(x * x for x in range(20))
    print(f"map_reduce result {result}, expected {expected}")
    assert result == expected, (result, expected)
    fexec.clean()
    print("lithops job passed")


if __name__ == "__main__":
    main(sys.argv[1])
