"""wait_until: the examples wait for what they expect instead of sleeping."""
import time


def wait_until(condition, timeout=10.0):
    """Return once condition() is true; raise after timeout seconds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the network did not get there in %.0f seconds" % timeout)
        time.sleep(0.01)
