"""Errors and constants: the same classes, hierarchy, errno values, texts and names as
pyzmq (read from the real pyzmq, never written out here)."""

from __future__ import annotations

import enum
import inspect
from typing import Any, Dict, List, Type

import pytest
import zmq as pyzmq

import puremq

ERROR_CLASSES = ["ZMQBaseError", "ZMQError", "ZMQBindError", "Again", "ContextTerminated",
                 "InterruptedSystemCall", "NotDone", "ZMQVersionError"]


def _pyzmq_enums() -> Dict[str, Type[enum.Enum]]:
    return {name: obj for name, obj in vars(pyzmq.constants).items()
            if inspect.isclass(obj) and issubclass(obj, enum.Enum)
            and obj.__module__ == pyzmq.constants.__name__ and not name.startswith("_")}


def _hierarchy(cls: type, module: Any) -> List[str]:
    """Base-class names, with the module's own classes marked so both sides compare."""
    return [("zmq." if getattr(module, base.__name__, None) is base else "") + base.__name__
            for base in cls.__mro__]


@pytest.mark.parametrize("name", ERROR_CLASSES)
def test_error_classes_exist_and_subclass_as_in_pyzmq(name: str) -> None:
    assert _hierarchy(getattr(puremq, name), puremq) == _hierarchy(getattr(pyzmq, name),
                                                                    pyzmq)


def test_errno_values_equal_pyzmq() -> None:
    for member in pyzmq.Errno:
        assert getattr(puremq, member.name) == member.value, member.name
        assert puremq.Errno[member.name] == member.value
    for name in ("EAGAIN", "EFSM", "ETERM", "ENOTSOCK", "EINVAL", "ENOTSUP",
                 "EHOSTUNREACH", "EMTHREAD", "ENOCOMPATPROTO", "EADDRINUSE"):
        assert getattr(puremq, name) == getattr(pyzmq, name)


def test_strerror_texts_equal_libzmq() -> None:
    for member in pyzmq.Errno:
        assert puremq.strerror(member.value) == pyzmq.strerror(member.value), member.name


@pytest.mark.parametrize("errno_name", ["EAGAIN", "EINVAL", "EFSM", "ETERM", "ENOTSOCK"])
def test_zmq_error_errno_and_strerror(errno_name: str) -> None:
    number = getattr(pyzmq, errno_name)
    expected = pyzmq.ZMQError(number)
    actual = puremq.ZMQError(number)
    assert actual.errno == expected.errno == number
    assert actual.strerror == expected.strerror
    assert str(actual) == str(expected)
    assert repr(actual) == repr(expected)
    custom = puremq.ZMQError(number, "custom text")
    assert (custom.errno, custom.strerror, str(custom)) == (number, "custom text",
                                                            "custom text")


def test_specific_errors_carry_their_errno(zmq_mod: Any) -> None:
    again = zmq_mod.Again()
    assert again.errno == zmq_mod.EAGAIN and isinstance(again, zmq_mod.ZMQError)
    terminated = zmq_mod.ContextTerminated()
    assert terminated.errno == zmq_mod.ETERM
    interrupted = zmq_mod.InterruptedSystemCall()
    assert isinstance(interrupted, InterruptedError)
    assert isinstance(interrupted, zmq_mod.ZMQError)
    assert issubclass(zmq_mod.ZMQBindError, zmq_mod.ZMQBaseError)
    assert not issubclass(zmq_mod.ZMQBindError, zmq_mod.ZMQError)


def test_raised_errors_are_the_specific_classes(mctx: Any, zmq_mod: Any) -> None:
    sock = mctx.socket(zmq_mod.PULL)
    with pytest.raises(zmq_mod.Again):
        sock.recv(zmq_mod.NOBLOCK)
    req = mctx.socket(zmq_mod.REQ)
    with pytest.raises(zmq_mod.ZMQError) as info:
        req.recv()
    assert info.value.errno == zmq_mod.EFSM
    assert not isinstance(info.value, zmq_mod.Again)


@pytest.mark.parametrize("enum_name", sorted(_pyzmq_enums()))
def test_every_enum_member_exists_with_the_same_value(enum_name: str) -> None:
    reference = _pyzmq_enums()[enum_name]
    ours = getattr(puremq, enum_name)
    assert issubclass(ours, enum.Enum)
    for name, member in reference.__members__.items():
        assert name in ours.__members__, f"{enum_name}.{name} missing"
        assert int(ours.__members__[name]) == int(member), f"{enum_name}.{name}"


def test_the_enums_checked_are_pyzmqs_full_set() -> None:
    expected = {"SocketType", "SocketOption", "Flag", "Event", "PollEvent", "Errno",
                "MessageOption", "ContextOption", "SecurityMechanism", "RouterNotify",
                "NormMode", "ReconnectStop", "DeviceType"}
    assert expected <= set(_pyzmq_enums())


def test_every_module_level_constant_exists_with_the_same_value() -> None:
    names = [name for name in dir(pyzmq)
             if name.isupper() and isinstance(getattr(pyzmq, name), int)]
    if pyzmq.IPC_PATH_MAX_LEN == 0:  # pyzmq's cffi backend (PyPy) does not know it
        names.remove("IPC_PATH_MAX_LEN")
        assert puremq.IPC_PATH_MAX_LEN == 107
    assert len(names) > 200
    missing = [n for n in names if not hasattr(puremq, n)]
    different = [n for n in names
                 if hasattr(puremq, n) and getattr(puremq, n) != getattr(pyzmq, n)]
    assert (missing, different) == ([], [])


def test_constants_compare_as_plain_ints() -> None:
    assert puremq.PUSH == 8 and puremq.SocketType.PUSH == 8
    assert puremq.POLLIN | puremq.POLLOUT == 3
    assert puremq.SNDMORE == pyzmq.SNDMORE
    assert puremq.Event.CONNECTED == pyzmq.EVENT_CONNECTED


def test_versions_and_capabilities() -> None:
    assert puremq.zmq_version_info() == (4, 3, 5) == pyzmq.zmq_version_info()
    assert puremq.zmq_version() == "4.3.5"
    version = puremq.pyzmq_version()
    assert isinstance(version, str)
    assert tuple(int(p) for p in version.split(".")[:3]) == puremq.pyzmq_version_info()
    assert puremq.has("ipc") is True and pyzmq.has("ipc") is True
    assert puremq.has("no-such-capability") is False
    assert puremq.has("pgm") is False  # not a transport puremq carries
