/**
 * Protocol ids of the fan-out's raw baseline (bench/lib/raw-server.ts), in a
 * module of their own so its clients can import them without starting it.
 */
export const RAW_PUBLISH = '/fabric-bench/raw-publish/1'
export const RAW_SUBSCRIBE = '/fabric-bench/raw-subscribe/1'
