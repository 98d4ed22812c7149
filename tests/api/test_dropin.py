"""``import puremq as zmq`` runs pyzmq programs unchanged.

Each program below is plain pyzmq code.  It runs twice in a fresh interpreter, once
after ``import zmq`` (the real pyzmq) and once after ``import puremq as zmq``; both runs
must succeed and print the same thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

#: The seed's first example (omq-and-pyzmq.rst), fixed for Python 3: the PIAR typo,
#: bytes for send and print() as a function; then its non-copying numpy send.
SEED_PAIR = """
ctx = zmq.Context.instance()

a = ctx.socket(zmq.PAIR)
b = ctx.socket(zmq.PAIR)

p = a.bind_to_random_port('tcp://127.0.0.1')
b.connect('tcp://127.0.0.1:%i' % p)

a.send(b'hi')
print(b.recv())

try:
    import numpy
except ImportError:
    print("[1. 1. 1. 1.]")
else:
    A = numpy.ones(4)
    a.send(A, copy=False)
    msg = b.recv(copy=False)
    B = numpy.frombuffer(msg)
    print(B)

a.close()
b.close()
ctx.term()
"""

REQ_REP_ECHO = """
import threading

def echo_server(ctx, url, ready):
    rep = ctx.socket(zmq.REP)
    rep.bind(url)
    ready.set()
    while True:
        msg = rep.recv()
        if msg == b"quit":
            rep.send(b"bye")
            break
        rep.send(b"echo:" + msg)
    rep.close()

ctx = zmq.Context()
url = "inproc://echo"
ready = threading.Event()
server = threading.Thread(target=echo_server, args=(ctx, url, ready))
server.start()
ready.wait()

req = ctx.socket(zmq.REQ)
req.connect(url)
for word in (b"one", b"two", b"three"):
    req.send(word)
    print(req.recv())
req.send_string("quit")
print(req.recv_string())
server.join()
req.close()
ctx.term()
"""

PUB_SUB_TOPIC = """
import time

ctx = zmq.Context()
pub = ctx.socket(zmq.PUB)
port = pub.bind_to_random_port("tcp://127.0.0.1")

sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"weather")
sub.connect("tcp://127.0.0.1:%d" % port)

# slow joiner: publish a marker until the subscription has arrived
poller = zmq.Poller()
poller.register(sub, zmq.POLLIN)
deadline = time.time() + 10
while not poller.poll(20):
    if time.time() > deadline:
        raise SystemExit("subscription never arrived")
    pub.send_multipart([b"weather", b"warm-up"])
while poller.poll(100):
    sub.recv_multipart()

for topic, body in [(b"sports", b"0-0"), (b"weather", b"sunny"), (b"news", b"none"),
                    (b"weather.rain", b"10mm")]:
    pub.send_multipart([topic, body])

for _ in range(2):
    topic, body = sub.recv_multipart()
    print(topic.decode(), body.decode())
print(dict(poller.poll(200)))

sub.close()
pub.close()
ctx.term()
"""

ROUTER_DEALER_JSON = """
ctx = zmq.Context()
router = ctx.socket(zmq.ROUTER)
router.bind("ipc://@puremq-dropin-%d" % os.getpid())
dealer = ctx.socket(zmq.DEALER)
dealer.setsockopt(zmq.IDENTITY, b"worker-1")
dealer.connect("ipc://@puremq-dropin-%d" % os.getpid())

dealer.send_json({"ask": "sum", "args": [1, 2, 3]})
identity, payload = router.recv_multipart()
import json
request = json.loads(payload)
router.send_multipart([identity, json.dumps({"sum": sum(request["args"])}).encode()])
print(identity, dealer.recv_json())
try:
    dealer.recv(zmq.NOBLOCK)
except zmq.Again as exc:
    print("Again", exc.errno == zmq.EAGAIN)
dealer.close()
router.close()
ctx.term()
"""

PROGRAMS = {
    "seed_pair": (SEED_PAIR, "b'hi'\n[1. 1. 1. 1.]\n"),
    "req_rep_echo": (REQ_REP_ECHO, "b'echo:one'\nb'echo:two'\nb'echo:three'\nbye\n"),
    "pub_sub_topic": (PUB_SUB_TOPIC, "weather sunny\nweather.rain 10mm\n{}\n"),
    "router_dealer_json": (ROUTER_DEALER_JSON, "b'worker-1' {'sum': 6}\nAgain True\n"),
}


def _run(header: str, body: str) -> subprocess.CompletedProcess:
    source = header + "\nimport os\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=45, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_pyzmq_program_runs_unchanged(program: str) -> None:
    body, expected = PROGRAMS[program]
    reference = _run("import zmq", body)
    assert reference.returncode == 0, reference.stderr
    assert reference.stdout == expected  # the program itself is right under pyzmq
    ours = _run("import puremq as zmq", body)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == reference.stdout
