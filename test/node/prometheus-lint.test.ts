/**
 * The scrape-time fixes that make families named by others (prom-client's
 * process metrics, libp2p's) pass promtool's lint.
 */
import { describe, expect, it } from 'vitest'
import { applyLintFixes, lintFixes } from '../../src/node/prometheus-lint.js'

describe('lintFixes', () => {
  it('fixes only what breaks the conventions', () => {
    const fixes = lintFixes([
      { name: 'ok_bytes', type: 'gauge' },
      { name: 'ok_total', type: 'counter' },
      { name: 'streams_total', type: 'gauge' },
      { name: 'handles', type: 'gauge' },
      { name: 'handles_total', type: 'gauge' },
      { name: 'ping_time_milliseconds', type: 'gauge' },
      { name: 'dials', type: 'counter' },
      { name: 'wait_milliseconds_total', type: 'counter' },
      { name: 'lag_seconds', type: 'histogram' },
      { name: 'odd_total', type: 'histogram' },
    ])
    expect(Object.fromEntries(fixes)).toEqual({
      streams_total: { name: 'streams', scale: 1 },
      handles_total: null,
      ping_time_milliseconds: { name: 'ping_time_seconds', scale: 1e-3 },
      dials: { name: 'dials_total', scale: 1 },
      wait_milliseconds_total: { name: 'wait_seconds_total', scale: 1e-3 },
    })
  })

  it('leaves out the second of two families that would get the same name', () => {
    expect(Object.fromEntries(lintFixes([{ name: 'p_milliseconds', type: 'gauge' }, { name: 'p_seconds_total', type: 'gauge' }])))
      .toEqual({ p_milliseconds: { name: 'p_seconds', scale: 1e-3 }, p_seconds_total: null })
  })
})

describe('applyLintFixes', () => {
  const text = [
    '# HELP streams_total streams_total',
    '# TYPE streams_total gauge',
    'streams_total{protocol="inbound /fabric/group/1"} 3',
    '',
    '# HELP handles_total Total handles.',
    '# TYPE handles_total gauge',
    'handles_total 4',
    '',
    '# HELP ping_time_milliseconds ping',
    '# TYPE ping_time_milliseconds gauge',
    'ping_time_milliseconds{peer="a b"} 25',
    'ping_time_milliseconds{peer="c"} +Inf',
    '',
    '# HELP streams_totally_other kept',
    '# TYPE streams_totally_other gauge',
    'streams_totally_other 1',
    '',
  ].join('\n')

  it('renames, scales and leaves out families line by line, and nothing else', () => {
    const fixes = new Map([
      ['streams_total', { name: 'streams', scale: 1 }],
      ['handles_total', null],
      ['ping_time_milliseconds', { name: 'ping_time_seconds', scale: 1e-3 }],
    ])
    expect(applyLintFixes(text, fixes).split('\n')).toEqual([
      '# HELP streams streams_total',
      '# TYPE streams gauge',
      'streams{protocol="inbound /fabric/group/1"} 3',
      '',
      '',
      '# HELP ping_time_seconds ping',
      '# TYPE ping_time_seconds gauge',
      'ping_time_seconds{peer="a b"} 0.025',
      'ping_time_seconds{peer="c"} +Inf',
      '',
      '# HELP streams_totally_other kept',
      '# TYPE streams_totally_other gauge',
      'streams_totally_other 1',
      '',
    ])
  })

  it('returns the text as it is without fixes', () => {
    expect(applyLintFixes(text, new Map())).toBe(text)
  })
})
