# bidder: takes part in Contract Net with caxton.contract_net.participant,
# like the marketplace's Go bidder. A call's content is a task,
# {"name": "...", "kind": "text" | "video", "size": N}; the bid is
# {"cost": RATE * size}, where RATE comes from the environment variable
# RATE if the host grants one (default 1). Video needs a GPU, which it has
# only if GPU=yes is granted; otherwise it refuses. On acceptance it
# reports "<name>: <size> units done by a Python agent for <cost>".
import json


def rate():
    r = caxton.env("RATE")
    if r is None:
        return 1
    try:
        v = float(r)
    except ValueError:
        return 1
    if v > 0:
        return v
    return 1


RATE = rate()
GPU = caxton.env("GPU") == "yes"


def task(cfp):
    try:
        t = json.loads(cfp.text)
    except ValueError as e:
        raise caxton.not_understood("not a task: " + str(e))
    if not isinstance(t, dict):
        raise caxton.not_understood("not a task: not an object")
    name = t.get("name", "")
    kind = t.get("kind", "text")
    size = t.get("size", 0)
    if not isinstance(name, str) or name == "" or not (isinstance(size, int) or isinstance(size, float)) or size <= 0:
        raise caxton.not_understood("task needs a name and a positive size")
    return name, kind, size


def bid(cfp, ctx):
    name, kind, size = task(cfp)
    if kind == "video" and not GPU:
        raise caxton.refuse("no GPU in this sandbox")
    return {"cost": RATE * size}


def cents(x):
    c = int(round(x * 100))
    s = str(c // 100) + "."
    r = c % 100
    if r < 10:
        s = s + "0"
    return s + str(r)


def execute(cfp, accept, offer, ctx):
    name, kind, size = task(cfp)
    return name + ": " + str(size) + " units done by a Python agent for " + cents(offer["cost"])


handle = caxton.contract_net.participant(bid, execute)
