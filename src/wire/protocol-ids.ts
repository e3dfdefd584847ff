/**
 * libp2p protocol ids of the fabric services (protocol/README.md). The
 * trailing number is the protocol version; an incompatible change gets a new
 * id, so peers negotiate it during multistream-select.
 */

/** KeyPackage directory: one request, one response per stream (protocol/control.md). */
export const DIRECTORY_PROTOCOL = '/fabric/directory/1'

/** Group service (MLS delivery service): one long-lived stream per fabric stream. */
export const GROUP_PROTOCOL = '/fabric/group/1'

/** Media publishing: member to node, chunks after a PublishOpen handshake. */
export const AV_PUBLISH_PROTOCOL = '/fabric/av/publish/1'

/** Media subscription: node to member (or downstream node), link-sealed chunks. */
export const AV_SUBSCRIBE_PROTOCOL = '/fabric/av/subscribe/1'

/** Node-to-node proof of holding the fabric key (protocol/fabric.md section 2). */
export const NODE_AUTH_PROTOCOL = '/fabric/node-auth/1'

/** The fabric's private Kademlia DHT (protocol/fabric.md section 3): not the public /ipfs/kad/1.0.0. */
export const FABRIC_KAD_PROTOCOL = '/fabric/kad/1.0.0'

/** Roster replication from a stream's home to the nodes relaying it (protocol/fabric.md section 5). */
export const FABRIC_ROSTER_PROTOCOL = '/fabric/roster/1'

/** The data channel on which a WebRTC member and its node prove their identities (protocol/webrtc.md section 3). */
export const WEBRTC_BINDING_LABEL = '/fabric/webrtc-binding/1'
