#!/usr/bin/env python3
"""pyspf (Debian python3-spf) over the OpenSPF rfc7208-tests.yml cases, with the suite's own
driver rules (a py3 port of pyspf's test/testspf.py DNSLookup/getrdata), for a same-run
comparison with relaytrust's BM_SpfRfc7208Suite.

Prints one JSON object: cases, cases_correct, evaluations, seconds, evaluations_per_second.
"""
import argparse
import json
import sys
import time

import spf
import yaml

zonedata = {}


def dns_lookup(name, qtype, strict=True, timeout=None):
    """Answers from the current scenario's zonedata, as testspf.py does."""
    try:
        timeout_pending = True
        labels = []
        for label in name.split('.'):
            if label:
                if len(label) > 63:
                    raise spf.TempError('DNS label too long')
                labels.append(label)
        name = '.'.join(labels)
        result = []
        for entry in zonedata[name.lower()]:
            if entry == 'TIMEOUT':
                if timeout_pending:
                    raise spf.TempError('DNS timeout')
                return result
            rtype, value = entry
            if rtype == qtype:
                timeout_pending = False
            if value == 'TIMEOUT':
                if rtype == qtype:
                    raise spf.TempError('DNS timeout')
                continue
            result.append(((name, rtype), value))
        return result
    except KeyError:
        if name.startswith('error.'):
            raise spf.TempError('DNS timeout')
        return []


def records(entries):
    """SPF entries are served as TXT unless the name has TXT entries; NONE adds nothing."""
    generated = []
    has_txt = any(isinstance(e, dict) and 'TXT' in e for e in entries)
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            out.append(entry)  # TIMEOUT
            continue
        for rtype, value in entry.items():
            if value == 'NONE':
                continue
            if rtype in ('TXT', 'SPF'):
                value = [value] if isinstance(value, str) else list(value)
                if rtype == 'SPF' and not has_txt:
                    generated.append(('TXT', value))
            elif rtype == 'MX':
                value = (value[0], value[1])
            elif rtype == 'A' or rtype == 'AAAA':
                value = str(value)
            out.append((rtype, value))
    return out + generated


def load(path):
    cases = []
    with open(path, 'rb') as stream:
        for scenario in yaml.safe_load_all(stream):
            zone = {name.lower(): records(entries)
                    for name, entries in (scenario.get('zonedata') or {}).items()}
            for case_id, case in scenario['tests'].items():
                expected = case['result']
                expected = [expected] if isinstance(expected, str) else list(expected)
                cases.append((zone, case_id, str(case['host']), case['mailfrom'], case['helo'],
                              expected, case.get('explanation')))
    return cases


def evaluate(case):
    global zonedata
    zone, _, host, mailfrom, helo, _, _ = case
    zonedata = zone
    query = spf.query(i=host, s=mailfrom, h=helo)
    query.set_default_explanation('DEFAULT')
    return query.check()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('suite')
    parser.add_argument('--seconds', type=float, default=10.0)
    args = parser.parse_args()
    spf.DNSLookup = dns_lookup
    cases = load(args.suite)

    correct = 0
    for case in cases:
        result, _, explanation = evaluate(case)
        result = {'unknown': 'permerror', 'error': 'temperror'}.get(result, result)
        ok = result in case[5] and (case[6] is None or case[6] == explanation)
        correct += ok
        if not ok:
            print('pyspf: %s: got %s %r' % (case[1], result, explanation), file=sys.stderr)

    evaluations = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for case in cases:
            evaluate(case)
        evaluations += len(cases)
    elapsed = time.perf_counter() - started
    print(json.dumps({'cases': len(cases), 'cases_correct': correct,
                      'evaluations': evaluations, 'seconds': round(elapsed, 3),
                      'evaluations_per_second': round(evaluations / elapsed, 1)}))


if __name__ == '__main__':
    main()
