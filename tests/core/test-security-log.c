/* test-security-log.c — the security log in a real store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sqlite3.h>
#include <sodium.h>

#include "sotto-core.h"
#include "sotto-store-private.h"
#include "sotto-test-util.h"

static SottoStore *
new_store (char **out_dir)
{
  g_autoptr (GError) error = NULL;
  SottoStore *store;

  *out_dir = sotto_test_make_profile_dir ();
  store = sotto_test_create_store (*out_dir, "Lena", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw",
                                   &error);
  g_assert_no_error (error);
  return store;
}

static GPtrArray *
list_log (SottoStore *store,
          guint       limit,
          guint      *out_damaged)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *entries;

  sotto_store_list_security_log_async (store, limit, NULL, sotto_test_result_cb, &result);
  entries = sotto_store_list_security_log_finish (store, sotto_test_wait (&result), out_damaged,
                                                  &error);
  g_assert_no_error (error);
  g_assert_nonnull (entries);
  return entries;
}

static void
write_log (SottoStore *store)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_write_log_async (store, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_write_log_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
}

static SottoSecurityLogEntry *
find_entry (GPtrArray          *entries,
            SottoSecurityEvent  kind,
            const char         *subject)
{
  for (guint i = 0; i < entries->len; i++)
    {
      SottoSecurityLogEntry *entry = g_ptr_array_index (entries, i);

      if (entry->kind == kind && g_strcmp0 (entry->subject, subject) == 0)
        return entry;
    }
  return NULL;
}

static void
raw_sql (const char *dir,
         const char *sql)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);

  sotto_test_db_exec (path, sql);
}

/* A flood from one address is one entry with a count; another address,
 * another reason or another kind is another entry; what a stranger cannot
 * repeat at will is one entry per event. Across a close and a reopen the
 * same hour still adds up. */
static void
test_log_summarised (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  SottoSecurityLogEntry *entry;
  const char *failed = sotto_refusal_to_string (SOTTO_REFUSAL_FAILED);
  gint64 hour = g_get_real_time () / ((gint64)3600 * G_USEC_PER_SEC);

  for (guint i = 0; i < 1000; i++)
    sotto_store_log_event (store, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "10.1.2.3", failed);
  for (guint i = 0; i < 3; i++)
    sotto_store_log_event (store, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "10.1.2.4", failed);
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "10.1.2.3",
                         sotto_refusal_to_string (SOTTO_REFUSAL_TOO_MANY));
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, "Mia", "a.pdf.exe");
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, "Mia", "a.pdf.exe");

  entries = list_log (store, SOTTO_SECURITY_LOG_PAGE, NULL);
  g_assert_cmpuint (entries->len, ==, 5);
  entry = find_entry (entries, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "10.1.2.4");
  g_assert_nonnull (entry);
  g_assert_cmpuint (entry->count, ==, 3);
  g_assert_cmpstr (entry->detail, ==, failed);
  g_assert_cmpint (entry->first, <=, entry->last);
  for (guint i = 0; i < entries->len; i++)
    {
      entry = g_ptr_array_index (entries, i);
      if (g_str_equal (entry->subject, "10.1.2.3") && g_str_equal (entry->detail, failed))
        g_assert_cmpuint (entry->count, ==, 1000);
      if (entry->kind == SOTTO_SECURITY_EVENT_FILE_FLAGGED)
        g_assert_cmpuint (entry->count, ==, 1);
    }
  g_clear_pointer (&entries, g_ptr_array_unref);

  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "10.1.2.4", failed);
  entries = list_log (store, SOTTO_SECURITY_LOG_PAGE, NULL);
  /* The same hour adds up; a new hour is a new entry. */
  if (g_get_real_time () / ((gint64)3600 * G_USEC_PER_SEC) == hour)
    {
      g_assert_cmpuint (entries->len, ==, 5);
      entry = find_entry (entries, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "10.1.2.4");
      g_assert_nonnull (entry);
      g_assert_cmpuint (entry->count, ==, 4);
    }
  else
    g_assert_cmpuint (entries->len, ==, 6);

  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* More sources at once than the main thread gathers: every one written. */
static void
test_log_many_sources (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GPtrArray) entries = NULL;
  guint n = SOTTO_SECURITY_LOG_MAX_PENDING * 3 + 1;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *host = g_strdup_printf ("10.9.%u.%u", i / 256, i % 256);

      sotto_store_log_event (store, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, host,
                             sotto_refusal_to_string (SOTTO_REFUSAL_NETWORK));
      g_assert_cmpuint (g_hash_table_size (store->log_pending), <=,
                        SOTTO_SECURITY_LOG_MAX_PENDING);
    }
  entries = list_log (store, SOTTO_SECURITY_LOG_MAX_ENTRIES, NULL);
  g_assert_cmpuint (entries->len, ==, n);

  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* SOTTO_SECURITY_LOG_MAX_ENTRIES rows are kept; one more drops the oldest. */
static void
test_log_bounded (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GPtrArray) entries = NULL;

  for (guint i = 0; i < SOTTO_SECURITY_LOG_MAX_ENTRIES; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u.exe", i);

      sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, "Mia", name);
    }
  entries = list_log (store, SOTTO_SECURITY_LOG_MAX_ENTRIES, NULL);
  g_assert_cmpuint (entries->len, ==, SOTTO_SECURITY_LOG_MAX_ENTRIES);
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* A later time than every one before. */
  g_usleep (2000);
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, "Mia", "newest.exe");
  entries = list_log (store, SOTTO_SECURITY_LOG_MAX_ENTRIES, NULL);
  g_assert_cmpuint (entries->len, ==, SOTTO_SECURITY_LOG_MAX_ENTRIES);
  g_assert_cmpstr (((SottoSecurityLogEntry *)g_ptr_array_index (entries, 0))->detail, ==,
                   "newest.exe");
  for (guint i = 0; i < entries->len; i++)
    g_assert_cmpstr (((SottoSecurityLogEntry *)g_ptr_array_index (entries, i))->detail, !=,
                     "file-0.exe");
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* The page asked for, and no more. */
  entries = list_log (store, 10, NULL);
  g_assert_cmpuint (entries->len, ==, 10);

  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* Texts are cut at SOTTO_SECURITY_LOG_TEXT_MAX bytes, between characters. */
static void
test_log_clip (void)
{
  g_autofree char *at_limit = g_strnfill (SOTTO_SECURITY_LOG_TEXT_MAX, 'a');
  g_autofree char *past = g_strnfill (SOTTO_SECURITY_LOG_TEXT_MAX + 1, 'a');
  g_autofree char *clipped = NULL;
  g_autoptr (GString) wide = g_string_new (NULL);

  clipped = sotto_security_log_clip (at_limit);
  g_assert_cmpstr (clipped, ==, at_limit);
  g_clear_pointer (&clipped, g_free);

  clipped = sotto_security_log_clip (past);
  g_assert_cmpuint (strlen (clipped), ==, SOTTO_SECURITY_LOG_TEXT_MAX);
  g_clear_pointer (&clipped, g_free);

  /* "é" is two bytes: 257 of them are 514; the cut keeps 256 (512). */
  for (guint i = 0; i < SOTTO_SECURITY_LOG_TEXT_MAX / 2 + 1; i++)
    g_string_append (wide, "\xc3\xa9");
  g_string_prepend_c (wide, 'x');
  clipped = sotto_security_log_clip (wide->str);
  g_assert_true (g_utf8_validate (clipped, -1, NULL));
  g_assert_cmpuint (strlen (clipped), ==, SOTTO_SECURITY_LOG_TEXT_MAX - 1);
  g_clear_pointer (&clipped, g_free);

  clipped = sotto_security_log_clip ("bad \xff byte");
  g_assert_true (g_utf8_validate (clipped, -1, NULL));
  g_clear_pointer (&clipped, g_free);

  clipped = sotto_security_log_clip (NULL);
  g_assert_cmpstr (clipped, ==, "");
}

/* Sealed: neither who nor what is in any file of the profile; a changed
 * count or kind makes the entry damaged, counted and left out. */
static void
test_log_sealed (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  guint damaged = 0;

  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_INFECTED, "Quentin Secretname",
                         "payroll-2026.xlsm — Eicar-Signature");
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_KEY_CHANGED, "Other", "1234 5678");
  write_log (store);
  sotto_test_close_store (&store);

  g_assert_false (sotto_test_dir_contains (dir, "Secretname", NULL));
  g_assert_false (sotto_test_dir_contains (dir, "payroll-2026", NULL));

  raw_sql (dir, "UPDATE security_log SET kind = 6 WHERE kind = 7");
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  entries = list_log (store, SOTTO_SECURITY_LOG_PAGE, &damaged);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpuint (damaged, ==, 1);
  g_assert_cmpint (((SottoSecurityLogEntry *)g_ptr_array_index (entries, 0))->kind, ==,
                   SOTTO_SECURITY_EVENT_KEY_CHANGED);

  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* Retention: entries last seen before the cut-off go, with history on or
 * off; 0 days keeps them. */
static void
test_log_retention (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, "Mia", "old.exe");
  write_log (store);
  g_assert_true (sotto_test_store_exec (store,
                                        "UPDATE security_log SET first = first - 864000000000, "
                                        "last = last - 864000000000, "
                                        "mac = sotto_row_mac('security_log', id, kind, tag, "
                                        "count, first - 864000000000, last - 864000000000)",
                                        &error));
  g_assert_no_error (error);
  sotto_store_log_event (store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, "Mia", "new.exe");
  write_log (store);

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      /* 0 days keeps; 30 keeps ten days; 7 drops it, history off too. */
      guint days = round == 0 ? 0 : round == 1 ? 30 : 7;

      sotto_store_apply_retention_async (store, round != 2, days, NULL, sotto_test_result_cb,
                                         &result);
      g_assert_true (sotto_store_apply_retention_finish (store, sotto_test_wait (&result), NULL,
                                                         &error));
      g_assert_no_error (error);
      entries = list_log (store, SOTTO_SECURITY_LOG_PAGE, NULL);
      g_assert_cmpuint (entries->len, ==, round < 2 ? 2 : 1);
      g_clear_pointer (&entries, g_ptr_array_unref);
    }

  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* Key changes, as the store records them: marked once (not at every
 * dial), then accepted; or refused by blocking or by removing. */
static void
test_log_key_changes (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  const char *hint[] = { "192.0.2.1:47300", NULL };
  g_autoptr (SottoContact) nora = sotto_test_add_contact (store, "Nora", NULL, hint, &error);
  g_autoptr (SottoContact) otto = sotto_test_add_contact (store, "Otto", NULL, hint, &error);
  g_autoptr (SottoContact) pia = sotto_test_add_contact (store, "Pia", NULL, hint, &error);
  SottoContact *changed[] = { nora, otto, pia };
  guint8 new_key[SOTTO_KEY_LEN];

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (changed); i++)
    for (guint dial = 0; dial < 3; dial++)
      {
        g_autoptr (GAsyncResult) result = NULL;

        randombytes_buf (new_key, sizeof new_key);
        sotto_store_mark_key_changed_async (store, changed[i], new_key, NULL,
                                            sotto_test_result_cb, &result);
        g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result),
                                                          &error));
        g_assert_no_error (error);
      }

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_accept_contact_key_async (store, nora, sotto_contact_get_offered_key (nora),
                                          SOTTO_VERIFICATION_VERIFIED, NULL,
                                          sotto_test_result_cb, &result);
    g_assert_true (sotto_store_accept_contact_key_finish (store, sotto_test_wait (&result),
                                                          &error));
    g_assert_no_error (error);
  }
  g_assert_true (sotto_test_update_contact (store, otto, NULL, 1, -1, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_remove_contact_async (store, pia, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_remove_contact_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }

  entries = list_log (store, SOTTO_SECURITY_LOG_PAGE, NULL);
  {
    guint changed_entries = 0;
    guint accepted = 0;
    guint rejected = 0;

    for (guint i = 0; i < entries->len; i++)
      {
        SottoSecurityLogEntry *entry = g_ptr_array_index (entries, i);
        g_autofree char *text = sotto_security_log_entry_describe (entry);

        g_assert_nonnull (strstr (text, entry->subject));
        if (entry->kind == SOTTO_SECURITY_EVENT_KEY_CHANGED)
          {
            changed_entries++;
            /* Marked three times, logged once: the later dials are the
             * same change. */
            g_assert_cmpuint (entry->count, ==, 1);
          }
        else if (entry->kind == SOTTO_SECURITY_EVENT_KEY_ACCEPTED)
          {
            accepted++;
            g_assert_cmpstr (entry->subject, ==, "Nora");
          }
        else if (entry->kind == SOTTO_SECURITY_EVENT_KEY_REJECTED)
          {
            rejected++;
            g_assert_true (g_str_equal (entry->subject, "Otto") ||
                           g_str_equal (entry->subject, "Pia"));
          }
      }
    g_assert_cmpuint (changed_entries, ==, 3);
    g_assert_cmpuint (accepted, ==, 1);
    g_assert_cmpuint (rejected, ==, 2);
  }

  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* The store logs what the policy refused it, whoever asked. */
static void
test_log_policy_refusals (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SottoStore) store = new_store (&dir);
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (SottoPolicy) policy = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;

  settings = g_settings_new ("im.sotto.Sotto");
  g_settings_set_boolean (settings, "history-user-delete", FALSE);
  policy = sotto_policy_new (settings);
  sotto_store_set_policy (store, policy);

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_purge_async (store, NULL, G_MAXINT64, FALSE, NULL, sotto_test_result_cb, &result);
    g_assert_false (sotto_store_purge_finish (store, sotto_test_wait (&result), NULL, &error));
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  }

  entries = list_log (store, SOTTO_SECURITY_LOG_PAGE, NULL);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpint (((SottoSecurityLogEntry *)g_ptr_array_index (entries, 0))->kind, ==,
                   SOTTO_SECURITY_EVENT_POLICY_REFUSED);
  g_assert_cmpstr (((SottoSecurityLogEntry *)g_ptr_array_index (entries, 0))->detail, ==,
                   error->message);

  g_settings_reset (settings, "history-user-delete");
  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* Every kind reads as a sentence naming what it is about. */
static void
test_log_describe (void)
{
  for (int kind = 1; kind <= SOTTO_SECURITY_EVENT_LAST; kind++)
    {
      SottoSecurityLogEntry entry = {
        .kind = kind, .subject = (char *)"SUBJ", .detail = (char *)"DETAIL", .count = 2,
      };
      g_autofree char *text = sotto_security_log_entry_describe (&entry);

      g_assert_nonnull (sotto_security_event_to_string (kind));
      g_assert_nonnull (strstr (text, "SUBJ"));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/security-log/summarised", test_log_summarised);
  g_test_add_func ("/security-log/many-sources", test_log_many_sources);
  g_test_add_func ("/security-log/bounded", test_log_bounded);
  g_test_add_func ("/security-log/clip", test_log_clip);
  g_test_add_func ("/security-log/sealed", test_log_sealed);
  g_test_add_func ("/security-log/retention", test_log_retention);
  g_test_add_func ("/security-log/key-changes", test_log_key_changes);
  g_test_add_func ("/security-log/policy-refusals", test_log_policy_refusals);
  g_test_add_func ("/security-log/describe", test_log_describe);

  return g_test_run ();
}
