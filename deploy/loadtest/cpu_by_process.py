#!/usr/bin/env python3
"""Where a benchmark's CPU went, per process of a throwaway stack (Linux: reads /proc).

usage: cpu_by_process.py snapshot STACK_DIR                         prints one JSON line
       cpu_by_process.py report BEFORE AFTER UNITS UNIT [NAME=SECONDS ...]   prints a table

`snapshot` records utime + stime (all threads) of every process with a pid file in
STACK_DIR/pids (the services, Tansu, Redis), of Postgres (the postmaster and its backends,
summed, with the backends that have exited), and the machine's busy and total time from /proc/stat. `report` prints, between two
snapshots, each process's CPU per UNIT (UNITS of them happened in between: sagas, transactions),
its share of the CPU used, and how busy the machine was — so a run says which process its
throughput is bound by. NAME=SECONDS adds a process that measured itself (the load generator,
which has exited by the second snapshot).
"""
import json, os, sys

TICKS = os.sysconf("SC_CLK_TCK")


def ticks(pid, reaped=False):
    """utime + stime of `pid`, all threads (with `reaped`, also that of its children that have
    exited and been waited for: Postgres backends of closed connections); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        own = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
        return own + (int(fields[13]) + int(fields[14]) if reaped else 0)  # cutime, cstime
    except (OSError, IndexError, ValueError):
        return 0


def children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def machine():
    """(busy, steal, total) ticks of all CPUs: busy is user + nice + system + irq + softirq (guest
    time is already inside user); steal is time the hypervisor gave to someone else."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]] + [0] * 10
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    steal = v[7]
    return busy, steal, busy + v[3] + v[4] + steal


def snapshot(stack_dir):
    seconds = {}
    pids_dir = os.path.join(stack_dir, "pids")
    for name in sorted(os.listdir(pids_dir)):
        if name.endswith(".pid"):
            with open(os.path.join(pids_dir, name)) as f:
                seconds[name[:-4]] = ticks(int(f.read().split()[0])) / TICKS
    with open(os.path.join(stack_dir, "postgres", "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    # (A backend reaped between these two reads is missed once; the services' pools keep theirs.)
    seconds["postgres"] = (ticks(postmaster, reaped=True) + sum(ticks(p) for p in children(postmaster))) / TICKS
    busy, steal, total = machine()
    return {"processes": seconds, "busy": busy / TICKS, "steal": steal / TICKS, "total": total / TICKS}


def report(before, after, units, unit, measured):
    cores = os.cpu_count() or 1
    wall = (after["total"] - before["total"]) / cores
    used = {name: after["processes"][name] - before["processes"].get(name, 0.0) for name in after["processes"]}
    for item in measured:
        name, seconds = item.rsplit("=", 1)
        used[name] = float(seconds)
    busy = after["busy"] - before["busy"]
    steal = after["steal"] - before["steal"]
    listed = sum(used.values())
    print(f"CPU per {unit}, by process ({units:.0f} {unit}s in {wall:.1f} s; machine {busy / wall / cores * 100:.0f} % busy on {cores} cores"
          f"{f', {steal / wall / cores * 100:.0f} % stolen by the hypervisor' if steal > 0 else ''})")
    for name, cpu in sorted(used.items(), key=lambda item: -item[1]):
        if cpu > 0:
            print(f"  {name:<22}{cpu / units * 1000:>8.3f} ms   {cpu / busy * 100:>4.0f} %")
    print(f"  {'everything else':<22}{max(busy - listed, 0) / units * 1000:>8.3f} ms   {max(busy - listed, 0) / busy * 100:>4.0f} %")
    print(f"  {'whole machine':<22}{busy / units * 1000:>8.3f} ms   ({units / busy:.0f} {unit}s per CPU-second)")


def main(argv):
    if len(argv) == 3 and argv[1] == "snapshot":
        print(json.dumps(snapshot(argv[2])))
    elif len(argv) >= 6 and argv[1] == "report":
        report(json.loads(argv[2]), json.loads(argv[3]), float(argv[4]), argv[5], argv[6:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
