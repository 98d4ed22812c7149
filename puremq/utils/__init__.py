"""Utilities with pyzmq's names: ``puremq.utils.monitor`` (socket events) and
``puremq.utils.arrays`` (numpy arrays without copies)."""
