#!/usr/bin/env python3
"""Sums a jcstress 0.16 HTML report (one or more -r directories) per test and outcome.

usage: jcstress/summarize-report.py DIR [DIR ...]   prints a markdown table and the totals
       jcstress/summarize-report.py LABEL=DIR[,DIR...] LABEL=DIR[,DIR...] ...
           one samples column per LABEL (e.g. one per JDK), then the totals of each
A test's failed configurations show in the totals ("failed"), and its FORBIDDEN samples as rows.
"""
import glob, html, os, re, sys
from html.parser import HTMLParser

class Rows(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.row = None; self.cell = None; self.intable = 0
    def handle_starttag(self, tag, attrs):
        if tag == 'tr': self.row = []
        elif tag in ('td', 'th') and self.row is not None: self.cell = []
    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self.row is not None and self.cell is not None:
            self.row.append((tag, ''.join(self.cell).strip())); self.cell = None
        elif tag == 'tr' and self.row is not None:
            self.rows.append(self.row); self.row = None
    def handle_data(self, d):
        if self.cell is not None: self.cell.append(d)

def load(dirs):
    """test name -> configurations (all, OK, failed, other), samples per outcome, expectations"""
    tests = {}
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, 'dev.latchwork.*.html'))):
            name = os.path.basename(f)[len('dev.latchwork.'):-5]
            s = open(f, encoding='utf-8').read()
            s = s[s.index('<h3>Results</h3>'):]
            p = Rows(); p.feed(s)
            rows = p.rows
            states = [c for t, c in rows[1] if t == 'th' and c]
            expects = [c for t, c in rows[2] if c]
            t = tests.setdefault(name, {'configs': 0, 'ok': 0, 'failed': 0, 'other': 0, 'counts': {}, 'expect': {}})
            for st, ex in zip(states, expects):
                t['expect'][st] = ex
            for r in rows[4:]:
                cells = [c for _, c in r]
                if len(cells) < 4 + len(states):
                    continue
                status = cells[3]
                t['configs'] += 1
                if status == 'OK': t['ok'] += 1
                elif 'FAIL' in status.upper(): t['failed'] += 1
                else: t['other'] += 1
                for st, c in zip(states, cells[4:4 + len(states)]):
                    t['counts'][st] = t['counts'].get(st, 0) + int(c.replace(',', ''))
    return tests

def totals(tests):
    tot = {'tests': 0, 'configs': 0, 'ok': 0, 'failed': 0, 'other': 0, 'samples': 0, 'forbidden': 0}
    for t in tests.values():
        tot['tests'] += 1
        for k in ('configs', 'ok', 'failed', 'other'): tot[k] += t[k]
        for st, n in t['counts'].items():
            tot['samples'] += n
            if t['expect'].get(st, '').lower().startswith('forbidden'): tot['forbidden'] += n
    return (f"tests {tot['tests']}, configurations {tot['configs']}: OK {tot['ok']}, failed {tot['failed']}, "
            f"other {tot['other']}; samples {tot['samples']:,}; forbidden samples {tot['forbidden']:,}")

args = sys.argv[1:]
if args and all('=' in a for a in args):
    runs = [(a.split('=', 1)[0], load(a.split('=', 1)[1].split(','))) for a in args]
else:
    runs = [('samples', load(args))]  # one run: a single samples column
names = sorted(set().union(*[r.keys() for _, r in runs]))
print('| test | outcome | expect | ' + ' | '.join(l for l, _ in runs) + ' |')
print('| --- | --- | --- | ' + ' | '.join('---:' for _ in runs) + ' |')
for name in names:
    expect, states = {}, set()
    for _, r in runs:
        if name in r:
            expect.update(r[name]['expect']); states.update(r[name]['counts'])
    first = True
    for st in sorted(states, key=lambda x: (expect.get(x, ''), x)):
        cols = [f"{r[name]['counts'].get(st, 0):,}" if name in r else '-' for _, r in runs]
        print(f"| {name if first else ''} | `{st}` | {expect.get(st, '?')} | " + ' | '.join(cols) + ' |')
        first = False
print()
for label, r in runs:
    print(totals(r) if len(runs) == 1 else f"{label}: {totals(r)}")
