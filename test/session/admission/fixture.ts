/**
 * Groups for the admission tests: honest members are AvSessions built from
 * bytes only; one member (the rogue) is a raw ts-mls client that tracks the
 * same group by processing the same Commits, and can commit whatever it likes.
 */
import { expect } from 'vitest'
import type { Proposal } from 'ts-mls'
import { AvSession, type PendingCommit } from '../../../src/session/av-session.js'
import {
  nextLedger, parseInvitationToken, readAdmissionState, redeemInvitation, type AdmissionRules, type AdmissionState,
  type NewAdmission,
} from '../../../src/session/admission/index.js'
import type { MemberIdentity } from '../../../src/session/identity.js'
import { membersOfTree } from '../../../src/session/roster.js'
import { decodeInvitation, decodeRedemption } from '../../../src/wire/admission-messages.js'
import { hex, makeJoiner, peer, STREAM, wire } from '../helpers.js'
import { addOf, contextOf, keyPackageOf, RawMember, rawKeyPackage } from './raw.js'

/** A group of peer(0)'s STREAM: honest AvSessions (owner first) and one raw rogue member. */
export interface Fixture {
  owner: AvSession
  /** Every honest member, the owner first. */
  honest: AvSession[]
  rogue: RawMember
  rogueIdentity: MemberIdentity
}

/**
 * Creates peer(0)'s STREAM under `rules` and adds, in one Commit, the
 * honest members `members` (peer indices) and the rogue peer(`rogue`),
 * with `admissions` as evidence for those the rules do not name.
 */
export async function groupWithRogue (options: {
  rules: AdmissionRules
  members: readonly number[]
  rogue: number
  nowMs: number
  /** Extra joiners of the first Commit, with the redemption that admits them. */
  withEvidence?: ReadonlyArray<{ who: number, redemption: (owner: AvSession) => Uint8Array }>
}): Promise<Fixture> {
  const { nowMs } = options
  const owner = await AvSession.create({ identity: peer(0), stream: STREAM, admission: options.rules, nowMs })
  const joiners = await Promise.all([...options.members, ...(options.withEvidence ?? []).map((e) => e.who)].map(async (n) => await makeJoiner(n, nowMs)))
  const rogueIdentity = peer(options.rogue)
  const rogueKp = await rawKeyPackage(rogueIdentity, nowMs)
  const admissions: NewAdmission[] = []
  for (const e of options.withEvidence ?? []) {
    const d = owner.decideJoin(peer(e.who).peerId, e.redemption(owner), nowMs)
    if (d.kind === 'evidence') admissions.push(d.admission)
    else expect(d.kind).toBe('admit')
  }
  const add = await owner.prepareAdd([...joiners.map((j) => wire(j.keyPackage)), rogueKp.bytes], { nowMs, admissions })
  await owner.applyPending(add, nowMs)
  const joined = await Promise.all(joiners.map(async (j) => await j.join(add.welcome!, nowMs)))
  const rogue = await RawMember.join(wire(add.welcome!), rogueKp)
  return { owner, honest: [owner, ...joined], rogue, rogueIdentity }
}

/** What a member holds: epoch and current SFrame key. */
export function snapshot (sessions: readonly AvSession[]): string[] {
  return sessions.map((s) => `${s.epoch}:${hex(s.keyRing.current()!.baseKey)}`)
}

/**
 * Every honest member refuses `commit` with one of `codes` and keeps its
 * epoch and its current SFrame key.
 */
export async function expectRefusedByAll (sessions: readonly AvSession[], commit: Uint8Array, codes: readonly string[], nowMs: number): Promise<void> {
  const before = snapshot(sessions)
  for (const s of sessions) {
    const err = await s.processCommit(wire(commit), nowMs).then(() => undefined, (e: unknown) => e)
    expect(err, `${s.identity.slice(-6)} took the Commit`).toBeDefined()
    expect(codes, (err as Error).message).toContain((err as { code?: string }).code)
  }
  expect(snapshot(sessions)).toEqual(before)
}

/** Every honest member takes an honest Commit of the owner; the rogue follows. All end in one epoch with one key. */
export async function commitEverywhere (f: Fixture, pending: PendingCommit, nowMs: number): Promise<void> {
  const epoch = f.owner.epoch + 1n
  await f.owner.applyPending(pending, nowMs)
  for (const s of f.honest.slice(1)) expect((await s.processCommit(wire(pending.commit), nowMs)).epoch).toBe(epoch)
  await f.rogue.process(wire(pending.commit))
  expect(f.rogue.epoch).toBe(epoch)
  expect(new Set(snapshot(f.honest)).size).toBe(1)
}

/** An honest Commit that changes nothing but the policy serial (the owner re-signs the rules). */
export async function resign (f: Fixture, nowMs: number): Promise<PendingCommit> {
  const { serial: _, ...rules } = f.owner.admission
  return await f.owner.prepareUpdatePolicy(rules, nowMs)
}

/** The admission state the rogue's group holds. */
export function rogueAdmission (f: Fixture): AdmissionState {
  return readAdmissionState(f.rogue.extensions)
}

/** The members of the rogue's tree. */
export function rogueMembers (f: Fixture): string[] {
  return membersOfTree(f.rogue.state.ratchetTree).map((m) => m.identity)
}

/** The evidence a Redemption gives, as prepareAdd and the ledger take it (no check made). */
export function evidenceOf (redemption: Uint8Array): NewAdmission {
  const r = decodeRedemption(redemption)
  return { admission: { identity: r.joiner, evidence: r }, invitationId: decodeInvitation(r.invitation!.invitation).id }
}

/** A joiner's Redemption of a token's text. */
export function redeem (tokenText: string, joiner: string): Uint8Array {
  return redeemInvitation(parseInvitationToken(tokenText), joiner)
}

/**
 * The rogue's Commit adding `kpBytes` (fabric KeyPackages of the joiners)
 * with `evidence` recorded in the ledger as an honest committer would
 * (nextLedger), plus any `extra` proposals. With no evidence and no extra,
 * the ledger is left alone.
 */
export async function rogueAdd (f: Fixture, kpBytes: readonly Uint8Array[], evidence: readonly NewAdmission[] = [], extra: Proposal[] = []): Promise<Uint8Array> {
  const proposals: Proposal[] = kpBytes.map((b) => addOf(keyPackageOf(b)))
  if (evidence.length > 0) {
    const state = rogueAdmission(f)
    const added = evidence.map((e) => e.admission.identity)
    const survivors = new Set([...rogueMembers(f), ...added, ...kpBytes.map((b) => identityOfKp(b))])
    proposals.push(contextOf(state.policy.bytes, nextLedger(state.ledger, survivors, evidence)))
  }
  proposals.push(...extra)
  return (await f.rogue.commit(proposals)).commit
}

function identityOfKp (bytes: Uint8Array): string {
  const kp = keyPackageOf(bytes)
  return new TextDecoder().decode((kp.leafNode.credential as { identity: Uint8Array }).identity)
}
