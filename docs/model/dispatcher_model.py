#!/usr/bin/env python3
"""The dispatcher queueing model of docs/DESIGN.md section 12 (issue 14 part 3).

One dispatcher (lane) serves commands in rounds spaced by the drain interval I (a gated polling
server with vacations); service time S per applied command (measured: docs/BENCHMARKS.md,
"Dispatcher ceiling"). P publishing cores each offer lam commands/s.

    rho    = P * lam * S / N                      (N lanes, cells spread evenly)
    D_mean = I/2 * (1 + rho) + rho*S / (2*(1 - rho)) + S
    D_p99 <= I * (1 + rho) + S * ln(100*rho) / (1 - rho) + S   (M/M/1 tail as a bound of M/D/1)
    lanes  = ceil(P * lam * S / 0.7)
"""
import math

I = 20e-6        # default drain interval
RHO_MAX = 0.7    # headroom kept per lane


def lane(P, lam, S, N):
    rho = P * lam * S / N
    if rho >= 1:
        return rho, None, None
    mean = I / 2 * (1 + rho) + rho * S / (2 * (1 - rho)) + S
    p99 = I * (1 + rho) + (S * math.log(100 * rho) / (1 - rho) if 100 * rho > 1 else 0.0) + S
    return rho, mean, p99


def us(x):
    return "**saturated**" if x is None else "%.1f µs" % (x * 1e6)


for S in (60e-9, 120e-9):
    print("S = %d ns (mu = %.1f M/s), I = %d µs" % (round(S * 1e9), 1 / S / 1e6, round(I * 1e6)))
    print("| publishing cores | per-core rate | offered (M/s) | 1 lane: ρ | mean deferral | p99 |"
          " lanes for ρ ≤ 0.7 | then ρ | mean | p99 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lam in (100e3, 200e3, 500e3):
        for P in (8, 32, 128):
            rho, mean, p99 = lane(P, lam, S, 1)
            n = max(1, math.ceil(P * lam * S / RHO_MAX))
            rho_n, mean_n, p99_n = lane(P, lam, S, n)
            print("| %d | %d k | %.1f | %.2f | %s | %s | %d | %.2f | %s | %s |" % (
                P, lam / 1e3, P * lam / 1e6, rho, us(mean), "—" if p99 is None else us(p99), n, rho_n,
                us(mean_n), us(p99_n)))
    print()
