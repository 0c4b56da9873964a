/* sotto-store-search.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Full-text search of the sealed history: every body is decrypted and
 * matched as folded text, spread over the cores, with matches handed to
 * the caller in batches as they are found.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"

/**
 * sotto_search_fingerprint_digits:
 * @text: what the user typed in a filter
 *
 * Fingerprints are shown in groups of five digits, and typed as shown.
 *
 * Returns: (transfer full) (nullable): the digits of @text when it is only
 *   digits and spaces, at least %SOTTO_SEARCH_FINGERPRINT_MIN_DIGITS of
 *   them: the start of a fingerprint to look for; else %NULL
 */
char *
sotto_search_fingerprint_digits (const char *text)
{
  g_autoptr (GString) digits = g_string_new (NULL);

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (*p != ' ')
        return NULL;
    }
  if (digits->len < SOTTO_SEARCH_FINGERPRINT_MIN_DIGITS)
    return NULL;
  return g_string_free (g_steal_pointer (&digits), FALSE);
}

/* The digits of a fingerprint as shown ("12345 67890 …" → "1234567890…"). */
char *
sotto_search_digits_only (const char *text)
{
  GString *only = g_string_new (NULL);

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (only, *p);
  return g_string_free (only, FALSE);
}

/**
 * sotto_search_fold:
 *
 * What search compares: compatibility-decomposed, case-folded text without
 * combining accents, so "STRASSE" finds "Straße", "ﬁle" finds "file",
 * "cafe" finds "café" and "ΣΟΦΙΑ" finds "Σοφία".
 *
 * Returns: (transfer full): the folded text
 */
char *
sotto_search_fold (const char *text)
{
  g_autofree char *decomposed = NULL;
  g_autofree char *folded = NULL;
  g_autofree char *again = NULL;
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  decomposed = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);
  if (decomposed == NULL)
    return g_strdup ("");
  folded = g_utf8_casefold (decomposed, -1);
  /* Folding can compose again (rarely); decompose once more to be sure. */
  again = g_utf8_normalize (folded, -1, G_NORMALIZE_ALL);

  out = g_string_sized_new (strlen (again));
  for (const char *p = again; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) != G_UNICODE_NON_SPACING_MARK)
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

typedef struct
{
  SottoStore      *store;
  SottoSearchFunc  func;
  gpointer         data;
  GPtrArray       *matches;
} SearchBatch;

typedef struct
{
  gint64           contact_id;
  char            *needle;
  SottoSearchFunc  func;
  gpointer         func_data;
  GMainContext    *context;
  guint            n_matches;
  guint            n_damaged;  /* rows that did not authenticate: left out */
  GPtrArray       *pending;
} SearchRequest;

static void
search_request_free (SearchRequest *request)
{
  g_free (request->needle);
  g_clear_pointer (&request->context, g_main_context_unref);
  g_clear_pointer (&request->pending, g_ptr_array_unref);
  g_free (request);
}

static gboolean
deliver_batch_cb (gpointer user_data)
{
  SearchBatch *batch = user_data;

  batch->func (batch->store, batch->matches, batch->data);

  g_ptr_array_unref (batch->matches);
  g_object_unref (batch->store);
  g_free (batch);

  return G_SOURCE_REMOVE;
}

static void
send_batch (SottoStore    *self,
            SearchRequest *request)
{
  SearchBatch *batch;

  if (request->pending == NULL || request->pending->len == 0 || request->func == NULL)
    return;

  batch = g_new0 (SearchBatch, 1);
  batch->store = g_object_ref (self);
  batch->func = request->func;
  batch->data = request->func_data;
  batch->matches = g_steal_pointer (&request->pending);
  _sotto_store_run_in_context (request->context, deliver_batch_cb, batch);
}

/* ASCII lower-casing by table: the scan below runs over every byte of
 * every message, and g_ascii_tolower() is a function call. */
static const guchar ascii_lower[256] = {
#define L4(n) ((n) >= 'A' && (n) <= 'Z' ? (n) + 32 : (n)), \
              ((n) + 1 >= 'A' && (n) + 1 <= 'Z' ? (n) + 33 : (n) + 1), \
              ((n) + 2 >= 'A' && (n) + 2 <= 'Z' ? (n) + 34 : (n) + 2), \
              ((n) + 3 >= 'A' && (n) + 3 <= 'Z' ? (n) + 35 : (n) + 3)
#define L16(n) L4 (n), L4 ((n) + 4), L4 ((n) + 8), L4 ((n) + 12)
#define L64(n) L16 (n), L16 ((n) + 16), L16 ((n) + 32), L16 ((n) + 48)
  L64 (0), L64 (64), L64 (128), L64 (192)
#undef L64
#undef L16
#undef L4
};

/* ASCII without NUL: a NUL (never in a valid body) sends the text to the
 * full check, which refuses it. Eight bytes at a time. */
static gboolean
is_ascii (const char *text,
          gsize       len)
{
  const guint64 high = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, text + i, 8);
      /* A high bit set, or a zero byte (the classic has-zero test). */
      if ((w & high) != 0 || ((w - ones) & ~w & high) != 0)
        return FALSE;
    }
  for (; i < len; i++)
    if ((guchar)text[i] >= 0x80 || text[i] == '\0')
      return FALSE;

  return TRUE;
}

/* @needle is already folded (lower-case ASCII here): find its first
 * byte in either case with memchr, then compare the rest. */
static gboolean
ascii_contains_folded (const char *haystack,
                       gsize       haystack_len,
                       const char *needle,
                       gsize       needle_len)
{
  guchar lower = (guchar)needle[0];
  guchar upper = g_ascii_toupper (lower);
  const char *end;

  if (needle_len == 0)
    return TRUE;
  if (needle_len > haystack_len)
    return FALSE;
  end = haystack + haystack_len - needle_len;

  for (const char *p = haystack; p <= end; p++)
    {
      gsize i;

      if ((guchar)*p != lower && (guchar)*p != upper)
        {
          const char *a = memchr (p, lower, (gsize)(end - p) + 1);
          const char *b = lower == upper ? NULL : memchr (p, upper, (gsize)(end - p) + 1);

          if (a == NULL && b == NULL)
            return FALSE;
          p = a == NULL ? b : b == NULL ? a : MIN (a, b);
        }
      for (i = 1; i < needle_len && ascii_lower[(guchar)p[i]] == (guchar)needle[i]; i++)
        ;
      if (i == needle_len)
        return TRUE;
    }

  return FALSE;
}

/* sotto_search_fold() one character at a time: decomposition, case
 * folding and dropping combining marks all work per character, so the
 * result is the same, and each distinct character is folded only once. */
typedef struct
{
  GHashTable *map;            /* gunichar → folded UTF-8, owned */
  /* Latin letters with accents are most of what office text has beyond
   * ASCII: a plain table in front of the hash (entries point into it). */
  const char *latin[0x250];
} FoldCache;

static FoldCache *
fold_cache_new (void)
{
  FoldCache *cache = g_new0 (FoldCache, 1);

  cache->map = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return cache;
}

static void
fold_cache_free (FoldCache *cache)
{
  g_hash_table_unref (cache->map);
  g_free (cache);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FoldCache, fold_cache_free)

static void
fold_cached (GString    *out,
             const char *text,
             FoldCache  *cache)
{
  g_string_truncate (out, 0);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c;
      const char *folded;

      if ((guchar)*p < 0x80)
        {
          g_string_append_c (out, (char)ascii_lower[(guchar)*p]);
          continue;
        }

      c = g_utf8_get_char (p);
      folded = c < G_N_ELEMENTS (cache->latin) ? cache->latin[c]
                                                : g_hash_table_lookup (cache->map, GUINT_TO_POINTER (c));
      if (folded == NULL)
        {
          char one[8] = { 0 };

          g_unichar_to_utf8 (c, one);
          folded = sotto_search_fold (one);
          g_hash_table_insert (cache->map, GUINT_TO_POINTER (c), (gpointer)folded);
          if (c < G_N_ELEMENTS (cache->latin))
            cache->latin[c] = folded;
        }
      g_string_append (out, folded);
    }
}

/*
 * Searching is decrypting every body, so it is spread over the cores: the
 * store thread reads rows from SQLite in chunks (ids and sealed bodies,
 * which are ciphertext and may sit in ordinary memory) and hands them to a
 * few scanner threads that decrypt and match. Chunks are finished in the
 * order they were read, so results still arrive newest first, and the
 * store thread loads the matching messages itself: only it touches the
 * database.
 */
#define SEARCH_CHUNK_ROWS  1024
#define SEARCH_MAX_THREADS 8

typedef struct
{
  gint64     ids[SEARCH_CHUNK_ROWS];
  gsize      offsets[SEARCH_CHUNK_ROWS + 1];  /* into sealed */
  guint      n_rows;
  GByteArray *sealed;

  /* Set by a scanner under the search's lock. */
  GArray    *matches;                          /* gint64, in row order */
  guint      n_damaged;
  GError    *error;
  gboolean   done;
} SearchChunk;

typedef struct
{
  const guint8 *key;
  const char   *needle;
  gsize         needle_len;
  gboolean      needle_ascii;

  GAsyncQueue  *todo;           /* SearchChunk *, or the stop marker */
  GMutex        lock;
  GCond         cond;           /* a chunk is done */
  gint          abort;          /* atomic: skip the remaining chunks */
} SearchScan;

static SearchChunk search_stop_marker;

static void
search_chunk_free (SearchChunk *chunk)
{
  g_clear_pointer (&chunk->sealed, g_byte_array_unref);
  g_clear_pointer (&chunk->matches, g_array_unref);
  g_clear_error (&chunk->error);
  g_free (chunk);
}

/* Decrypts one body into @plain (locked memory, reused for every row)
 * and says whether its folded text contains the needle. */
static gboolean
scan_body (SearchScan    *scan,
           gint64         id,
           const guint8  *sealed,
           gsize          len,
           guint8        *plain,
           GString       *folded,
           FoldCache     *fold_cache,
           gboolean      *out_match,
           GError       **error)
{
  const char *text = (const char *)plain;
  gsize plain_len;

  if (len < SOTTO_SEAL_OVERHEAD || len > SOTTO_SEAL_PLAINTEXT_MAX + SOTTO_SEAL_OVERHEAD)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("Message %lld is damaged"), (long long)id);
      return FALSE;
    }

  plain_len = len - SOTTO_SEAL_OVERHEAD;
  if (!sotto_unseal_into (scan->key, "messages", "body", id, sealed, len,
                          plain, plain_len, error))
    return FALSE;
  plain[plain_len] = '\0';

  /* Most chat text is ASCII, and for ASCII the full fold is just
   * lower-casing: match in place (ASCII without NUL is valid text, no
   * further check needed). Anything else is validated, then folded
   * character by character through a cache, into a reused buffer. */
  if (is_ascii (text, plain_len))
    {
      *out_match = scan->needle_ascii &&
                   ascii_contains_folded (text, plain_len, scan->needle, scan->needle_len);
      return TRUE;
    }

  if (!g_utf8_validate (text, plain_len, NULL))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("A stored text in “%s” (row %lld) is not valid text"),
                   "messages", (long long)id);
      return FALSE;
    }

  fold_cached (folded, text, fold_cache);
  *out_match = strstr (folded->str, scan->needle) != NULL;

  return TRUE;
}

static gpointer
search_scanner_thread (gpointer data)
{
  SearchScan *scan = data;
  g_autoptr (FoldCache) fold_cache = fold_cache_new ();
  g_autoptr (GString) folded = g_string_sized_new (256);
  /* Decrypted text only ever lives here: locked, wiped by sodium_free(). */
  guint8 *plain = sodium_malloc (SOTTO_SEAL_PLAINTEXT_MAX + 1);
  SearchChunk *chunk;

  g_assert (plain != NULL);

  while ((chunk = g_async_queue_pop (scan->todo)) != &search_stop_marker)
    {
      g_autoptr (GArray) matches = g_array_new (FALSE, FALSE, sizeof (gint64));
      GError *error = NULL;
      guint n_damaged = 0;

      for (guint i = 0; i < chunk->n_rows && !g_atomic_int_get (&scan->abort); i++)
        {
          gboolean match = FALSE;

          if (!scan_body (scan, chunk->ids[i], chunk->sealed->data + chunk->offsets[i],
                          chunk->offsets[i + 1] - chunk->offsets[i], plain, folded,
                          fold_cache, &match, &error))
            {
              /* One damaged body must not end the search: it is counted. */
              if (!g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED))
                break;
              g_message ("Left out: %s", error->message);
              g_clear_error (&error);
              n_damaged++;
              continue;
            }
          if (match)
            g_array_append_val (matches, chunk->ids[i]);
        }

      g_mutex_lock (&scan->lock);
      chunk->n_damaged = n_damaged;
      chunk->matches = g_steal_pointer (&matches);
      chunk->error = error;
      chunk->done = TRUE;
      g_cond_broadcast (&scan->cond);
      g_mutex_unlock (&scan->lock);
    }

  sodium_free (plain);
  return NULL;
}

/* Waits for the oldest chunk in flight and turns its matches into
 * messages for the caller. */
static gboolean
search_finish_chunk (SottoStore     *self,
                     SearchRequest  *request,
                     SearchScan     *scan,
                     GQueue         *in_flight,
                     GError        **error)
{
  SearchChunk *chunk = g_queue_pop_head (in_flight);
  gboolean ok = TRUE;

  _sotto_store_assert_worker (self);

  g_mutex_lock (&scan->lock);
  while (!chunk->done)
    g_cond_wait (&scan->cond, &scan->lock);
  g_mutex_unlock (&scan->lock);

  if (chunk->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&chunk->error));
      ok = FALSE;
    }

  if (ok)
    request->n_damaged += chunk->n_damaged;

  for (guint i = 0; ok && i < chunk->matches->len; i++)
    {
      gint64 id = g_array_index (chunk->matches, gint64, i);
      g_autoptr (GError) local_error = NULL;
      SottoMessage *message = _sotto_store_load_message (self, id, &local_error);

      if (message == NULL)
        {
          /* Its body matched, but the rest of its row does not
           * authenticate: counted, not shown. */
          if (g_error_matches (local_error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED))
            {
              request->n_damaged++;
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          ok = FALSE;
          break;
        }
      if (request->pending == NULL)
        request->pending = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (request->pending, message);
      request->n_matches++;
      if (request->pending->len == SOTTO_SEARCH_BATCH)
        send_batch (self, request);
    }

  search_chunk_free (chunk);
  return ok;
}

static gpointer
search_job (SottoStore    *self,
            gpointer       data,
            GCancellable  *cancellable,
            GError       **error)
{
  SearchRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  GQueue in_flight = G_QUEUE_INIT;
  SearchScan scan = { 0 };
  SearchChunk *chunk = NULL;
  GError *local_error = NULL;
  guint n_threads;
  gboolean ok = TRUE;
  int rc = SQLITE_DONE;

  _sotto_store_assert_worker (self);

  /* No join per row: one conversation is found through the index, all of
   * them by walking the table backwards (newest first). */
  if (request->contact_id != 0)
    stmt = _sotto_store_db_prepare (self,
                                    "SELECT id, body FROM messages WHERE conversation_id = "
                                    "(SELECT id FROM conversations WHERE contact_id = ?1) "
                                    "ORDER BY id DESC",
                                    error);
  else
    stmt = _sotto_store_db_prepare (self, "SELECT id, body FROM messages ORDER BY id DESC", error);
  if (stmt == NULL)
    return NULL;
  if (request->contact_id != 0)
    sqlite3_bind_int64 (stmt, 1, request->contact_id);

  scan.key = self->key;
  scan.needle = request->needle;
  scan.needle_len = strlen (request->needle);
  scan.needle_ascii = is_ascii (request->needle, scan.needle_len);
  scan.todo = g_async_queue_new ();
  g_mutex_init (&scan.lock);
  g_cond_init (&scan.cond);

  /* As many scanners as cores: this thread mostly waits on SQLite and on
   * them, and a scanner waiting for work costs nothing. */
  n_threads = CLAMP (g_get_num_processors (), 1, SEARCH_MAX_THREADS);
  for (guint i = 0; i < n_threads; i++)
    {
      GThread *thread = g_thread_try_new ("sotto-search", search_scanner_thread, &scan, &local_error);

      if (thread == NULL)
        {
          ok = FALSE;
          break;
        }
      g_ptr_array_add (threads, thread);
    }
  if (threads->len > 0 && local_error != NULL)
    {
      /* Fewer threads than wished for still search. */
      g_debug ("search: %s", local_error->message);
      g_clear_error (&local_error);
      ok = TRUE;
    }

  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const guint8 *sealed = sqlite3_column_blob (stmt, 1);
      gsize len = (gsize)sqlite3_column_bytes (stmt, 1);

      /* Checked here too, so a damaged row can't make a chunk huge. */
      if (len < SOTTO_SEAL_OVERHEAD || len > SOTTO_SEAL_PLAINTEXT_MAX + SOTTO_SEAL_OVERHEAD)
        {
          g_message ("Left out: message %lld has a body of impossible length",
                     (long long)sqlite3_column_int64 (stmt, 0));
          request->n_damaged++;
          continue;
        }

      if (chunk == NULL)
        {
          chunk = g_new0 (SearchChunk, 1);
          chunk->sealed = g_byte_array_sized_new (SEARCH_CHUNK_ROWS * 128);
        }
      chunk->ids[chunk->n_rows] = sqlite3_column_int64 (stmt, 0);
      chunk->offsets[chunk->n_rows] = chunk->sealed->len;
      g_byte_array_append (chunk->sealed, sealed, (guint)len);
      chunk->n_rows++;
      chunk->offsets[chunk->n_rows] = chunk->sealed->len;

      if (chunk->n_rows < SEARCH_CHUNK_ROWS)
        continue;

      g_queue_push_tail (&in_flight, chunk);
      g_async_queue_push (scan.todo, g_steal_pointer (&chunk));

      /* Two chunks per scanner in flight keep them busy while this
       * thread reads on. */
      while (ok && in_flight.length > 2 * threads->len)
        ok = search_finish_chunk (self, request, &scan, &in_flight, &local_error);

      if (ok && g_cancellable_set_error_if_cancelled (cancellable, &local_error))
        ok = FALSE;
    }

  if (ok && rc != SQLITE_DONE)
    ok = _sotto_store_set_db_error (&local_error, self->db, rc, _("searching"));

  if (ok && chunk != NULL)
    {
      g_queue_push_tail (&in_flight, chunk);
      g_async_queue_push (scan.todo, g_steal_pointer (&chunk));
    }
  g_clear_pointer (&chunk, search_chunk_free);

  if (!ok)
    g_atomic_int_set (&scan.abort, TRUE);
  while (in_flight.length > 0)
    {
      if (ok)
        ok = search_finish_chunk (self, request, &scan, &in_flight, &local_error);
      else
        {
          g_autoptr (GError) ignored = NULL;

          g_atomic_int_set (&scan.abort, TRUE);
          search_finish_chunk (self, request, &scan, &in_flight, &ignored);
        }
    }

  for (guint i = 0; i < threads->len; i++)
    g_async_queue_push (scan.todo, &search_stop_marker);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  g_async_queue_unref (scan.todo);
  g_mutex_clear (&scan.lock);
  g_cond_clear (&scan.cond);

  if (!ok)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* Queued on the same context before the completion is: the caller sees
   * every batch before the search ends. */
  send_batch (self, request);

  return g_memdup2 (&request->n_matches, sizeof request->n_matches);
}

/**
 * sotto_store_search_async:
 * @contact: (nullable): one conversation, or %NULL for all
 * @text: what to look for (see sotto_search_fold())
 * @on_matches: (scope notified) (nullable): receives batches of matches
 *   as they are found, newest first
 *
 * Searches the decrypted bodies on the worker thread. Cancelling stops it
 * between two messages. A message that no longer authenticates is left
 * out; sotto_store_search_finish_full() says how many were.
 */
void
sotto_store_search_async (SottoStore          *self,
                          SottoContact        *contact,
                          const char          *text,
                          SottoSearchFunc      on_matches,
                          gpointer             matches_data,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  SearchRequest *request;
  gsize len;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (contact == NULL || SOTTO_IS_CONTACT (contact));
  g_return_if_fail (text != NULL);

  len = strnlen (text, SOTTO_SEARCH_TEXT_MAX + 1);
  if (len == 0 || len > SOTTO_SEARCH_TEXT_MAX || !g_utf8_validate (text, len, NULL))
    {
      g_task_report_new_error (self, callback, user_data, sotto_store_search_async,
                               SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("Search for 1 to %d bytes of text"), SOTTO_SEARCH_TEXT_MAX);
      return;
    }

  request = g_new0 (SearchRequest, 1);
  request->contact_id = contact != NULL ? sotto_contact_get_id (contact) : 0;
  request->needle = sotto_search_fold (text);
  request->func = on_matches;
  request->func_data = matches_data;
  request->context = g_main_context_ref_thread_default ();

  _sotto_store_schedule (self, sotto_store_search_async, search_job, NULL,
                         request, (GDestroyNotify)search_request_free, g_free,
                         cancellable, callback, user_data);
}

gboolean
sotto_store_search_finish (SottoStore    *self,
                           GAsyncResult  *result,
                           guint         *out_n_matches,
                           GError       **error)
{
  return sotto_store_search_finish_full (self, result, out_n_matches, NULL, error);
}

/**
 * sotto_store_search_finish_full:
 * @out_n_matches: (out) (optional): how many messages matched
 * @out_n_damaged: (out) (optional): how many messages were left out
 *   because they no longer authenticate: those whose body could not be
 *   read, and those whose body matched but whose row was changed
 */
gboolean
sotto_store_search_finish_full (SottoStore    *self,
                                GAsyncResult  *result,
                                guint         *out_n_matches,
                                guint         *out_n_damaged,
                                GError       **error)
{
  g_autofree guint *n = NULL;
  SearchRequest *request = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  n = g_task_propagate_pointer (G_TASK (result), error);
  if (n != NULL)
    request = _sotto_store_job_get_data (G_TASK (result));
  if (out_n_matches != NULL)
    *out_n_matches = n != NULL ? *n : 0;
  if (out_n_damaged != NULL)
    *out_n_damaged = request != NULL ? request->n_damaged : 0;

  return n != NULL;
}
