"""Tornado event loop integration, shaped like pyzmq's ``zmq.eventloop``."""

from tornado.ioloop import IOLoop

__all__ = ["IOLoop"]
