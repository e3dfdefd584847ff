/**
 * A member's stock of KeyPackages at its node's directory, and the private
 * halves that go with them (which never leave this process). Several
 * one-use KeyPackages and a last-resort one are kept published (RFC 9420
 * section 16.8 advises a last-resort one so a member is never unreachable);
 * a Welcome names the one it was made for by KeyPackageRef.
 */
import type { ChannelDialer } from '../transport/channel.js'
import { welcomeKeyPackageRefs } from '../session/av-session.js'
import type { MemberIdentity } from '../session/identity.js'
import { generateKeyPackages, type KeyPackageBundle } from '../session/key-package.js'
import { toHex } from '../wire/text.js'
import { countKeyPackages, publishKeyPackages } from './directory-client.js'

/** One-use KeyPackages kept published at once. */
export const KEY_PACKAGE_STOCK = 4

export class KeyPackagePool {
  private readonly dialer: ChannelDialer
  private readonly identity: MemberIdentity
  /** Bundles by hex KeyPackageRef: every one published from this process and not yet used. */
  private readonly bundles = new Map<string, KeyPackageBundle>()
  private lastResort: KeyPackageBundle | undefined
  private topUp: Promise<void> | undefined

  constructor (dialer: ChannelDialer, identity: MemberIdentity) {
    this.dialer = dialer
    this.identity = identity
  }

  /**
   * Makes sure the directory holds KeyPackages of this member: tops the
   * one-use stock up to KEY_PACKAGE_STOCK and publishes a last-resort one
   * once. Concurrent calls share one round.
   *
   * @param nowMs the caller's clock, ms since the Unix epoch: the new KeyPackages' lifetimes start here
   * @throws FabricError with the directory's code (QUOTA_EXCEEDED, ...) or a transport code
   */
  async ensurePublished (nowMs: number): Promise<void> {
    this.topUp ??= this.publishMissing(nowMs).finally(() => { this.topUp = undefined })
    await this.topUp
  }

  /**
   * The bundle a Welcome was made for, or undefined when it names none of
   * this process's KeyPackages.
   *
   * @throws MalformedError | TooLargeError when the bytes are not a Welcome
   */
  bundleFor (welcome: Uint8Array): KeyPackageBundle | undefined {
    for (const ref of welcomeKeyPackageRefs(welcome)) {
      const b = this.bundles.get(toHex(ref))
      if (b !== undefined) return b
    }
    return undefined
  }

  /** Forgets a one-use bundle once a Welcome used it (the directory already handed it out). */
  used (bundle: KeyPackageBundle): void {
    if (!bundle.lastResort) this.bundles.delete(toHex(bundle.ref))
  }

  private async publishMissing (nowMs: number): Promise<void> {
    // The first publish of a process replaces whatever an earlier process of
    // this identity left: their private halves died with it.
    const first = this.lastResort === undefined
    const held = first ? 0 : (await countKeyPackages(this.dialer, this.identity.peerId)).count
    const wanted = Math.max(0, KEY_PACKAGE_STOCK - held)
    if (wanted === 0 && !first) return
    const made = await generateKeyPackages(this.identity, { nowMs, count: Math.max(1, wanted), lastResort: first })
    const fresh = wanted === 0 ? [] : made.keyPackages
    await publishKeyPackages(this.dialer, fresh.map((b) => b.keyPackage), made.lastResort?.keyPackage, { replace: first })
    for (const b of fresh) this.bundles.set(toHex(b.ref), b)
    if (made.lastResort !== undefined) {
      this.lastResort = made.lastResort
      this.bundles.set(toHex(made.lastResort.ref), made.lastResort)
    }
  }
}
