// The gRPC status of an error whose message quotes a request string holding invalid UTF-8 (protobufjs decodes it
// into lone surrogates): the client must get the status, not UNKNOWN from a grpc-message that cannot be encoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protoRoot } from '../../src/grpc/protos.js';
import { grpcStatus } from '../../src/grpc/status.js';
import { ApiError } from '../../src/google/errors.js';

test('lone surrogates in an error message become U+FFFD, so grpc-js can percent-encode grpc-message', () => {
  const s = grpcStatus(protoRoot(), new ApiError('INVALID_ARGUMENT', 'Invalid name "p\udbeaoj\udc00x😀"'));
  assert.equal(s.code, 3);
  assert.equal(s.details, 'Invalid name "p\ufffdoj\ufffdx😀"');
  assert.doesNotThrow(() => encodeURIComponent(s.details));
});
