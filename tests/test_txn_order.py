"""TxnOrder: a homeserver transaction that overtook an earlier one is refused once."""

from __future__ import annotations

from bridge.txn_order import TxnOrder


def test_in_sequence_transactions_are_taken() -> None:
    order = TxnOrder.after("41")
    for n in range(42, 50):
        assert order.admit(str(n))
        order.handled(str(n))
    assert order.last == 49


def test_a_skip_ahead_is_refused_once_then_taken() -> None:
    order = TxnOrder.after("10")
    assert not order.admit("12")  # 11 is missing: the homeserver is asked to resend in order
    assert order.admit("11")  # the recoverer sends the stuck one first...
    order.handled("11")
    assert order.admit("12")  # ...then the one refused
    order.handled("12")
    # A gap that is real (a skipped sequence number) costs one refusal, never a stall.
    assert not order.admit("15")
    assert order.admit("15")
    order.handled("15")
    assert order.last == 15 and not order.refused


def test_what_is_never_held_back() -> None:
    order = TxnOrder.after(None)
    assert order.admit("7")  # nothing handled yet: nothing to compare with
    order.handled("7")
    assert order.admit("7")  # a replay
    assert order.admit("3")  # the counter went down (Synapse on SQLite, restarted)
    order.handled("3")
    assert order.last == 3
    assert order.admit("5000")  # far away: another numbering, not a missing transaction
    assert order.admit("abc-12")  # not a number (other homeservers)
    assert order.admit("٣")  # a non-ASCII digit is not a number here
    order.handled("abc-12")
    assert order.last == 3


def test_refused_numbers_do_not_pile_up() -> None:
    order = TxnOrder(window=10, last=0)
    for n in range(2, 10):
        order.admit(str(n))
    assert len(order.refused) <= 10
    order.window = 3
    order.last = 0
    order.refused = {100, 101, 102}
    assert not order.admit("2")
    assert order.refused == set()
