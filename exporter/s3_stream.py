"""Stream bytes into one S3 object: a multipart upload fed as the bytes are produced, never a local file.

Bytes are buffered up to one part and uploaded on a small thread pool while the next part fills, so
memory holds at most ``max_in_flight + 1`` parts whatever the object's size. An object smaller than
one part is a single PutObject. Nothing is visible under the key until CompleteMultipartUpload
succeeds; on any failure the upload is aborted (the bucket's abort-incomplete-multipart lifecycle rule
is the backstop for a Lambda killed mid-upload). SHA-256 and size are computed as the bytes pass.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

MiB = 1024 * 1024
# S3: every part but the last is at least 5 MiB, at most 10,000 parts. 16 MiB parts, doubled every
# 1,000 parts, reach 10,000 parts only beyond 5 TiB, S3's object size limit.
MIN_PART_SIZE = 5 * MiB
DEFAULT_PART_SIZE = 16 * MiB
PARTS_PER_DOUBLING = 1_000


@dataclass(frozen=True)
class StreamedObject:
    key: str
    bytes: int
    sha256: str
    parts: int  # 0: written by a single PutObject


class S3Stream:
    """A write-only binary file object whose bytes become the S3 object ``key`` when ``close`` succeeds."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        content_type: str,
        part_size: int = DEFAULT_PART_SIZE,
        max_in_flight: int = 2,
    ) -> None:
        self.s3, self.bucket, self.key, self.content_type = s3, bucket, key, content_type
        self.part_size = part_size
        self.max_in_flight = max_in_flight
        self.digest = hashlib.sha256()
        self.size = 0
        self.closed = False
        self._chunks: deque[memoryview] = deque()
        self._spare: list[bytearray] = []  # buffers of parts whose upload is done
        self._buffered = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._pending: deque[Future[dict[str, Any]]] = deque()
        self._pool: ThreadPoolExecutor | None = None

    # --- file-object interface (pyarrow's CSV writer and hashlib-style callers) ---------------------------
    def write(self, data: bytes | bytearray | memoryview | Any) -> int:
        view = memoryview(data).cast("B")  # (bytes, whatever the buffer's item format)
        self.digest.update(view)
        self.size += len(view)
        # Immutable bytes (pyarrow's buffers, bytes) are kept as they are and copied once, into their part.
        self._chunks.append(view if isinstance(data, (bytes, pa.Buffer)) else memoryview(bytes(view)))
        self._buffered += len(view)
        while self._buffered >= self._current_part_size():
            self._submit(self._take(self._current_part_size()))
        return len(view)

    def flush(self) -> None:  # parts are uploaded when full; nothing to do
        return None

    def close(self) -> None:  # pyarrow closes the sinks it writes to; ``finish`` commits the object
        self.closed = True

    # --- the object ---------------------------------------------------------------------------------------
    def finish(self) -> StreamedObject:
        """Upload what is left and make the object visible; raises (after aborting) on failure."""
        try:
            rest = self._take(self._buffered)
            if self._upload_id is None:
                self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=rest, ContentType=self.content_type)
            else:
                if rest or (not self._parts and not self._pending):
                    self._submit(rest)
                while self._pending:
                    self._parts.append(self._pending.popleft().result())
                self.s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": sorted(self._parts, key=lambda part: part["PartNumber"])},
                )
        except BaseException:
            self.abort()
            raise
        finally:
            self._shutdown()
        return StreamedObject(self.key, self.size, self.digest.hexdigest(), len(self._parts))

    def abort(self) -> None:
        """Drop the upload: no object appears, the uploaded parts are discarded (best effort)."""
        for future in self._pending:
            future.cancel()
        self._shutdown()
        self._pending.clear()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            # Best effort: the bucket's lifecycle rule removes an upload this call could not.
            with contextlib.suppress(Exception):
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)

    # --- internals ----------------------------------------------------------------------------------------
    def _take(self, size: int) -> bytearray:
        """The first ``size`` buffered bytes (all of them when fewer), as one part, copied into a buffer of an
        earlier part whose upload is done: a fresh 16 MiB block would be page-faulted in on every part."""
        size = min(size, self._buffered)
        part = self._part_buffer(size)
        into, filled = memoryview(part), 0
        while filled < size:
            chunk = self._chunks.popleft()
            taken = min(len(chunk), size - filled)
            into[filled : filled + taken] = chunk[:taken]
            if taken < len(chunk):
                self._chunks.appendleft(chunk[taken:])
            filled += taken
        self._buffered -= size
        return part

    def _part_buffer(self, size: int) -> bytearray:
        while self._spare:
            spare = self._spare.pop()
            if len(spare) == size:
                return spare
        return bytearray(size)

    def _current_part_size(self) -> int:
        done = len(self._parts) + len(self._pending)
        return self.part_size << (done // PARTS_PER_DOUBLING)

    def _submit(self, part: bytearray) -> None:
        if self._upload_id is None:
            self._upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
            self._pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="s3-part")
        number = len(self._parts) + len(self._pending) + 1
        assert self._pool is not None
        self._pending.append(self._pool.submit(self._upload_part, number, part))
        while len(self._pending) > self.max_in_flight:  # back-pressure: bounded memory
            self._parts.append(self._pending.popleft().result())

    def _upload_part(self, number: int, part: bytearray) -> dict[str, Any]:
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        self._spare.append(part)  # (uploaded: a later part may reuse the buffer)
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._spare.clear()
