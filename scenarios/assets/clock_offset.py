"""Reads the clock of an HTTP server from the `Date` header of its response
and compares it with this host's clock. Prints the difference as
`offset=SECONDS` (positive when the server is ahead) and exits 0 when it is
EXPECTED seconds, give or take TOLERANCE (default 3), and 1 otherwise or
when the server does not respond.

Usage: clock_offset.py URL EXPECTED [TOLERANCE]
"""

import email.utils
import sys
import time
import urllib.error
import urllib.request


def main() -> None:
    url, expected = sys.argv[1], float(sys.argv[2])
    tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    # The server is asked directly, never through a proxy from the
    # environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    sent = time.time()
    try:
        with opener.open(url, timeout=2) as response:
            date = response.headers["Date"]
    except urllib.error.HTTPError as error:
        date = error.headers["Date"]
    except OSError as error:
        print(f"no response from {url}: {error}")
        sys.exit(1)
    received = time.time()
    if date is None:
        print(f"the response from {url} has no Date header")
        sys.exit(1)
    # The header has whole seconds, so the server's clock read half a
    # second more on average; the response was written mid-way on average.
    server = email.utils.parsedate_to_datetime(date).timestamp() + 0.5
    offset = server - (sent + received) / 2
    print(f"offset={offset:.1f}")
    sys.exit(0 if abs(offset - expected) <= tolerance else 1)


if __name__ == "__main__":
    main()
