#!/usr/bin/env python3
"""Write the .chaos scenarios that bench/run measures to standard output.

  large LINES                      a valid file of at least LINES lines
  proxy ECHO SOURCE LISTEN         proxies on LISTEN (to ECHO), LISTEN+1 (to
                                   SOURCE) with no fault, and LISTEN+2 (to
                                   ECHO) holding latency(1ms) until stopped
  accuracy ECHO LISTEN DELAY_MS    one proxy holding latency(DELAY_MS) for 60s
  bandwidth SOURCE LISTEN RATE     one proxy to SOURCE holding
                                   bandwidth(RATE Mbit/s) for 60s
  reaction proxy UPSTREAM LISTEN   one proxy holding latency(5ms), stopped when
                                   a TCP probe of UPSTREAM fails once
  reaction process UPSTREAM        the same stop, with a launched process
                                   held by process_pause()
  reaction tc UPSTREAM NETNS PEER  the same stop, with link_bandwidth(10Mbit/s)
                                   on `vnear` in NETNS (PEER is ADDRESS:PORT)
  link KIND NETNS PEER RATE        link_bandwidth(RATE Mbit/s) or, for KIND
                                   netem, netem(delay = RATE ms) on `vnear`
                                   in NETNS for 60s
  scale ECHO FIRST COUNT           COUNT proxies on FIRST.. to ECHO, each
                                   with its own latency(5ms) step

Every address is 127.0.0.1, except those of the network namespaces that
bench/run creates. Every experiment may run at any hour.
"""

import sys

HEADER = "use std::faults::{latency}\n"

SAFETY = "safety { rollback = true, timeout = 120s, business_hours_only = false }"


def large(lines):
    # The same shape as `large_file` in benches/check.rs: 14 lines per
    # target and experiment pair.
    count = -(-lines // 14)
    out = ["use std::faults::{latency, blackhole}\n"]
    for index in range(count):
        port = 20000 + index * 2
        out.append(
            f"target t{index} = proxy {{ listen = 127.0.0.1:{port}, upstream = 127.0.0.1:{port + 1} }}\n"
        )
    for index in range(count):
        out.append(
            f"""
experiment e{index} {{
    category = network
    severity = low
    duration = 5m
    safety {{ business_hours_only = false }}
    steady_state {{
        probe p = tcp 127.0.0.1:{20000 + index * 2}
    }}
    step slow = inject latency(100ms, jitter = 5ms) on t{index} for 1m
    step dark = inject blackhole() on t{index} for 30s after slow
    stop when p.failures > 3 in 30s
}}
"""
        )
    return "".join(out)


def proxy(echo, source, listen):
    return f"""{HEADER}
target echo_front = proxy {{ listen = 127.0.0.1:{listen}, upstream = 127.0.0.1:{echo} }}
target bulk_front = proxy {{ listen = 127.0.0.1:{listen + 1}, upstream = 127.0.0.1:{source} }}
target spare = proxy {{ listen = 127.0.0.1:{listen + 2}, upstream = 127.0.0.1:{echo} }}

experiment proxy_cost {{
    category = network
    severity = low
    duration = 10m
    {SAFETY}
    steady_state {{
        probe up = tcp 127.0.0.1:{echo}
    }}
    // The fault sits on `spare` so that the measured proxies carry none.
    step hold = inject latency(delay = 1ms) on spare
}}
"""


def front(listen, upstream):
    return f"target front = proxy {{ listen = 127.0.0.1:{listen}, upstream = 127.0.0.1:{upstream} }}\n"


def one_proxy(experiment, fault, upstream, listen, step):
    """Returns a scenario with a proxy `front` to UPSTREAM, the step STEP on
    it, and UPSTREAM as steady state."""
    return f"""use std::faults::{{{fault}}}

{front(listen, upstream)}
experiment {experiment} {{
    category = network
    severity = low
    duration = 2m
    {SAFETY}
    steady_state {{
        probe up = tcp 127.0.0.1:{upstream}
    }}
    {step}
}}
"""


def accuracy(echo, listen, delay_ms):
    step = f"step slow = inject latency(delay = {delay_ms}ms) on front for 60s"
    return one_proxy("fault_accuracy", "latency", echo, listen, step)


def bandwidth(source, listen, rate_mbit):
    step = f"step narrow = inject bandwidth(rate = {rate_mbit}Mbit/s) on front for 60s"
    return one_proxy("bandwidth_accuracy", "bandwidth", source, listen, step)


def interface(netns, peer):
    return f'target link = interface {{ name = "vnear", netns = "{netns}", peer = {peer} }}\n'


# The fault of each reaction kind: the `use` line, the target and the step.
REACTION_FAULTS = {
    "proxy": lambda upstream, listen: (
        "latency",
        front(listen, upstream),
        "step hold = inject latency(delay = 5ms) on front",
    ),
    "process": lambda upstream: (
        "process_pause",
        'target worker = process { command = ["sleep", "600"] }\n',
        "step hold = inject process_pause() on worker",
    ),
    "tc": lambda upstream, netns, peer: (
        "link_bandwidth",
        interface(netns, peer),
        "step hold = inject link_bandwidth(rate = 10Mbit/s) on link",
    ),
}


def reaction(kind, upstream, *rest):
    fault, target, step = REACTION_FAULTS[kind](upstream, *rest)
    return f"""use std::faults::{{{fault}}}

{target}
experiment reaction {{
    category = network
    severity = low
    duration = 1m
    {SAFETY}
    // Outside the steady state, so that the dead upstream does not fail
    // the check after rollback and add its retries to every trial.
    probe up = tcp 127.0.0.1:{upstream} within 200ms every 20ms
    {step}
    stop when up.failures >= 1
}}
"""


def link(kind, netns, peer, amount):
    fault = {
        "tbf": f"link_bandwidth(rate = {amount}Mbit/s)",
        "netem": f"netem(delay = {amount}ms)",
    }[kind]
    name = fault.split("(")[0]
    return f"""use std::faults::{{{name}}}

{interface(netns, peer)}
experiment link_accuracy {{
    category = network
    severity = low
    duration = 2m
    {SAFETY}
    step shape = inject {fault} on link for 60s
}}
"""


def scale(echo, first, count):
    out = [HEADER]
    for index in range(count):
        out.append(
            f"target t{index} = proxy {{ listen = 127.0.0.1:{first + index}, upstream = 127.0.0.1:{echo} }}\n"
        )
    out.append(
        f"""
experiment scale {{
    category = network
    severity = low
    duration = 10m
    blast_radius {{ limit = {count} }}
    {SAFETY}
    steady_state {{
        probe up = tcp 127.0.0.1:{echo}
    }}
"""
    )
    for index in range(count):
        out.append(f"    step s{index} = inject latency(delay = 5ms) on t{index}\n")
    out.append("}\n")
    return "".join(out)


def main():
    command, *args = sys.argv[1:]
    # Ports, counts and rates are numbers, while kinds, namespaces and peers are not.
    values = [int(arg) if arg.isdigit() else arg for arg in args]
    builders = {
        "large": large,
        "proxy": proxy,
        "accuracy": accuracy,
        "bandwidth": bandwidth,
        "reaction": reaction,
        "link": link,
        "scale": scale,
    }
    if command not in builders:
        raise SystemExit(f"unknown scenario {command!r}; expected one of {', '.join(builders)}")
    sys.stdout.write(builders[command](*values))


if __name__ == "__main__":
    main()
