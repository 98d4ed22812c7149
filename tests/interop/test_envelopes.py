"""REQ/REP envelopes across implementations, through ROUTER-DEALER hops.

Two REQ clients (one puremq with a chosen ROUTING_ID, one libzmq with a generated id) send
multipart requests with empty frames through one or two brokers (a ROUTER frontend and a
DEALER backend, forwarded by the test) to a REP.  Each socket of the chain is parametrized
by implementation, so every hand-over between puremq and libzmq happens somewhere: the
ROUTER must prepend the right address, the REP must strip the whole envelope up to and
including the REQ's delimiter (not an empty frame of the payload) and put it back on its
reply, and each reply must find its way back to its own client.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest

from .harness import IMPLS, TRANSPORTS, Net

PM_CLIENT_ID = b"client-pm"
REQUESTS = {
    "pm": [b"", b"request from puremq", b""],
    "lz": [b"request from libzmq", b"", b"x" * 300],
}


def reply_to(request: List[bytes]) -> List[bytes]:
    return [b"reply"] + request[::-1] + [b""]


def chain_params() -> List[Any]:
    params = []
    for router_impl in IMPLS:
        for dealer_impl in IMPLS:
            for rep_impl in IMPLS:
                for transport in TRANSPORTS:
                    for brokers_bind in (True, False):
                        ident = (f"{router_impl}ROUTER-{dealer_impl}DEALER-{rep_impl}REP"
                                 f"-{'brokers' if brokers_bind else 'ends'}_bind-{transport}")
                        params.append(pytest.param([(router_impl, dealer_impl)], rep_impl,
                                                   transport, brokers_bind, id=ident))
    for hops, rep_impl in [([("pm", "lz"), ("lz", "pm")], "lz"),
                           ([("lz", "pm"), ("pm", "lz")], "pm")]:
        for transport in TRANSPORTS:
            for brokers_bind in (True, False):
                names = "-".join(f"{r}ROUTER-{d}DEALER" for r, d in hops)
                ident = f"{names}-{rep_impl}REP-{'brokers' if brokers_bind else 'ends'}_bind-" \
                        f"{transport}"
                params.append(pytest.param(hops, rep_impl, transport, brokers_bind, id=ident))
    return params


def connect(net: Net, binder: Any, connector: Any, transport: str) -> None:
    connector.connect(net.bind(binder, transport))


def forward(src: Any, dst: Any, count: int) -> List[List[bytes]]:
    """Broker step: move ``count`` whole messages from src to dst; returns them."""
    moved = []
    for _ in range(count):
        frames = src.recv_multipart()
        dst.send_multipart(frames)
        moved.append(frames)
    return moved


@pytest.mark.parametrize("hops, rep_impl, transport, brokers_bind", chain_params())
def test_request_reply_envelopes_through_brokers(
        net: Net, hops: List[Tuple[str, str]], rep_impl: str, transport: str,
        brokers_bind: bool) -> None:
    """RFC 28: "The REQ socket SHALL prefix the outgoing message with an empty delimiter
    frame"; "The REP socket SHALL ... remove and save all frames up to and including the
    empty delimiter ... and SHALL prefix the outgoing reply with the saved envelope"; the
    ROUTER prepends / strips the peer's routing id."""
    clients = {"pm": net.socket("pm", "REQ", [("ROUTING_ID", PM_CLIENT_ID)]),
               "lz": net.socket("lz", "REQ")}
    brokers = [(net.socket(r, "ROUTER"), net.socket(d, "DEALER")) for r, d in hops]
    rep = net.socket(rep_impl, "REP")

    # wire the chain: clients - (ROUTER|DEALER) - ... - REP
    frontend = brokers[0][0]
    for client in clients.values():
        if brokers_bind:
            connect(net, frontend, client, transport)
        else:
            connect(net, client, frontend, transport)
    for (_, dealer), (router, _) in zip(brokers, brokers[1:]):
        if brokers_bind:
            connect(net, dealer, router, transport)
        else:
            connect(net, router, dealer, transport)
    backend = brokers[-1][1]
    if brokers_bind:
        connect(net, backend, rep, transport)
    else:
        connect(net, rep, backend, transport)

    for impl, client in clients.items():
        client.send_multipart(REQUESTS[impl])

    # up: at each hop the ROUTER prepends its peer's id; record every hop's envelope
    envelopes: List[Dict[str, List[bytes]]] = []
    for router, dealer in brokers:
        hop: Dict[str, List[bytes]] = {}
        for frames in forward(router, dealer, 2):
            impl = next(i for i, req in REQUESTS.items() if frames[-len(req):] == req)
            hop[impl] = frames[:-len(REQUESTS[impl])]
        envelopes.append(hop)
    # the first ROUTER sees [client id, delimiter]; each further one stacks the id of the
    # DEALER before it on top
    assert envelopes[0]["pm"] == [PM_CLIENT_ID, b""]
    generated = envelopes[0]["lz"]
    assert len(generated) == 2 and generated[1] == b"", generated
    assert len(generated[0]) == 5 and generated[0][0] == 0, generated
    for lower, upper in zip(envelopes, envelopes[1:]):
        for impl in REQUESTS:
            assert len(upper[impl]) == len(lower[impl]) + 1
            assert upper[impl][1:] == lower[impl]

    for _ in clients:
        request = rep.recv_multipart()
        assert request in (REQUESTS["pm"], REQUESTS["lz"])
        rep.send_multipart(reply_to(request))

    # down: each DEALER gets back exactly the envelope it passed up, then the reply
    for (router, dealer), hop in reversed(list(zip(brokers, envelopes))):
        for frames in forward(dealer, router, 2):
            impl = next(i for i, req in REQUESTS.items()
                        if frames[-len(reply_to(req)):] == reply_to(req))
            assert frames == hop[impl] + reply_to(REQUESTS[impl])

    for impl, client in clients.items():
        assert client.recv_multipart() == reply_to(REQUESTS[impl])
