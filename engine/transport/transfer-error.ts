/** put/get failed on a reachable host (permission denied, missing directory, disk full...). */
export class TransferError extends Error {
  readonly code: 'transport/put-failed' | 'transport/get-failed';
  readonly hint?: string;
  constructor(message: string, code: 'transport/put-failed' | 'transport/get-failed', hint?: string) {
    super(message);
    this.name = 'TransferError';
    this.code = code;
    this.hint = hint;
  }
}
