// Histories to and from the JSON that `temporal workflow show --output json` and the Web UI write.
// The SDK's own historyToJSON/historyFromJSON (@temporalio/common/lib/proto-utils) fail here with
// "type must be a Type": npm installs protobufjs 8 twice (under @temporalio/common and under
// @temporalio/proto, since grpc's proto-loader keeps protobufjs 7 at the top), and the converter
// of one copy refuses the other copy's message types. These are the same two calls, made with the
// converter of the copy that defined the types.
import { dirname } from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null;
}

const protoDir = dirname(require.resolve('@temporalio/proto/package.json'));
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
const root = patchProtobufRoot(proto as unknown as Record<string, unknown>) as unknown as {
  lookupType(name: string): unknown;
};
const historyType = root.lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history;
}
