"""The media archive: every file people send to Sambang, downloaded from Telegram and kept on disk by its SHA-256.

- ``queue.enqueue`` is called in the transaction that stores what a file belongs to (an aspiration's attachments,
  a village potential's photos): the download is never lost and never in the sender's way.
- ``worker.DownloadWorker`` takes the due downloads in the background, through a ``fetch.Fetch`` the Telegram edge
  provides (``bot/telegram/media.py``), retries 429/5xx/network errors with backoff and gives up on a file that is
  gone after a few answers saying so.
- ``store.MediaStore`` is the content-addressed folder (``SAMBANG_MEDIA_DIR``, files ``ab/<sha256>.<ext>``);
  ``archive`` backs it up incrementally, restores and verifies it. Nothing here knows Telegram.
"""
