/**
 * Where the weekly report page goes (the Lambda digest function): a private object store and the pre-signed links to it.
 *
 * Error contract: `put` rejects with the backend's error when the object was not written (the digest then sends no
 * e-mail that links to it); `presignGet` throws `RangeError` for an expiry outside 1 s … 7 days (604,800 s, the most
 * a SigV4 pre-signed URL allows). Neither ever makes an object public.
 */
export interface ReportBucket {
  /** Write the HTML page under `key`, private and encrypted at rest. */
  put(key: string, html: string): Promise<void>;
  /** A GET URL for `key` signed with the caller's credentials, valid for `expiresInSeconds`. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
}

/** The longest a SigV4 pre-signed URL may live (S3 refuses longer). */
export const MAX_PRESIGN_SECONDS = 604_800;
