/* sotto-store-contacts.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The contacts: their sealed rows, the sorted list model front ends
 * show (changed on the main thread only), looking one up by what the
 * user typed, and adding, removing and changing them.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-contact-private.h"
#include "sotto-error.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"

#define CONTACT_COLUMNS \
  "id, public_key, display_name, alias, verification, blocked, addresses, offered_key, mac, " \
  CONTACT_ROW_MAC ", member_only, signing_key"

/* -------------------------------------------------------------------------
 * Rows (worker thread)
 * ------------------------------------------------------------------------- */

/* Addresses are sealed as one value: NUL-separated strings. */
static GBytes *
seal_addresses (SottoStore         *self,
                gint64              rowid,
                const char * const *addresses)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();

  _sotto_store_assert_worker (self);

  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    g_byte_array_append (buf, (const guint8 *)addresses[i], strlen (addresses[i]) + 1);

  return sotto_seal (self->key, "contacts", "addresses", rowid, buf->data, buf->len);
}

static char **
unseal_addresses (SottoStore    *self,
                  sqlite3_stmt  *stmt,
                  int            col,
                  gint64         rowid,
                  GError       **error)
{
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  const char *data;
  gsize len = 0;
  gsize start = 0;

  _sotto_store_assert_worker (self);

  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return g_strv_builder_end (builder);

  plain = sotto_unseal (self->key, "contacts", "addresses", rowid,
                        sqlite3_column_blob (stmt, col),
                        (gsize)sqlite3_column_bytes (stmt, col), error);
  if (plain == NULL)
    return NULL;

  data = g_bytes_get_data (plain, &len);
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\0')
        {
          if (sotto_invite_address_validate (data + start, NULL))
            g_strv_builder_add (builder, data + start);
          start = i + 1;
        }
    }

  return g_strv_builder_end (builder);
}

static SottoContact *
contact_from_row (SottoStore    *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  gint64 id = sqlite3_column_int64 (stmt, 0);
  g_autofree char *name = NULL;
  g_autofree char *alias = NULL;
  g_auto (GStrv) addresses = NULL;
  g_autoptr (GError) local_error = NULL;
  gint64 verification = sqlite3_column_int64 (stmt, 4);
  gint64 member_only = sqlite3_column_int64 (stmt, 10);
  SottoContact *contact;

  _sotto_store_assert_worker (self);

  /* Its key, trust marks and offered key are as Sotto wrote them, first:
   * nothing of a row that does not authenticate is used. */
  if (!_sotto_store_row_mac_matches (stmt, 8, 9) ||
      sqlite3_column_bytes (stmt, 1) != SOTTO_KEY_LEN ||
      (sqlite3_column_type (stmt, 7) != SQLITE_NULL &&
       sqlite3_column_bytes (stmt, 7) != SOTTO_KEY_LEN) ||
      verification < SOTTO_VERIFICATION_UNVERIFIED ||
      verification > SOTTO_VERIFICATION_KEY_CHANGED ||
      member_only < SOTTO_MEMBER_ONLY_NO || member_only > SOTTO_MEMBER_ONLY_FORMER ||
      (sqlite3_column_type (stmt, 11) != SQLITE_NULL &&
       sqlite3_column_bytes (stmt, 11) != SOTTO_SIGNING_KEY_LEN))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("Contact %lld is damaged"), (long long)id);
      return NULL;
    }

  name = _sotto_store_unseal_string (self, stmt, 2, "contacts", "display_name", id, error);
  if (name == NULL)
    return NULL;
  alias = _sotto_store_unseal_string (self, stmt, 3, "contacts", "alias", id, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  addresses = unseal_addresses (self, stmt, 6, id, error);
  if (addresses == NULL)
    return NULL;

  contact = _sotto_contact_new (id, sqlite3_column_blob (stmt, 1),
                                sqlite3_column_type (stmt, 7) != SQLITE_NULL
                                ? sqlite3_column_blob (stmt, 7) : NULL,
                                name, alias,
                                (SottoVerification)verification,
                                sqlite3_column_int64 (stmt, 5) != 0,
                                (const char * const *)addresses);
  _sotto_contact_set_group_state (contact, (SottoMemberOnly)member_only,
                                  sqlite3_column_bytes (stmt, 11) == SOTTO_SIGNING_KEY_LEN
                                  ? sqlite3_column_blob (stmt, 11) : NULL);
  return contact;
}

/* Signs the row's clear columns as they now are: the last write of every
 * transaction that changes one of them, so that the commit that changes
 * them also binds them. */
gboolean
_sotto_store_bind_contact_row (SottoStore  *self,
                  gint64       id,
                  GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "UPDATE contacts SET mac = " CONTACT_ROW_MAC " WHERE id = ?",
                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);

  return _sotto_store_db_step_done (self, stmt, error);
}

SottoContact *
_sotto_store_load_contact (SottoStore  *self,
              gint64       id,
              GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "SELECT " CONTACT_COLUMNS " FROM contacts WHERE id = ?",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                           _("No such contact"));
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading a contact"));
      return NULL;
    }

  return contact_from_row (self, stmt, error);
}

/* A contact whose row does not authenticate is left out and counted in
 * @n_damaged: it must not be shown, trusted or written to as it now reads,
 * and the others stay usable. */
GPtrArray *
_sotto_store_load_contacts (SottoStore  *self,
                            guint       *n_damaged,
                            GError     **error)
{
  g_autoptr (GPtrArray) contacts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "SELECT " CONTACT_COLUMNS " FROM contacts ORDER BY id",
                                  error);
  if (stmt == NULL)
    return NULL;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local_error = NULL;
      SottoContact *contact = contact_from_row (self, stmt, &local_error);

      if (contact == NULL)
        {
          if (!g_error_matches (local_error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          g_message ("Left out: %s", local_error->message);
          (*n_damaged)++;
          continue;
        }
      g_ptr_array_add (contacts, contact);
    }

  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading contacts"));
      return NULL;
    }

  return g_steal_pointer (&contacts);
}

/* -------------------------------------------------------------------------
 * The contact list (main thread)
 * ------------------------------------------------------------------------- */

static int
compare_contacts (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  g_autofree char *ka = g_utf8_casefold (sotto_contact_get_name ((SottoContact *)a), -1);
  g_autofree char *kb = g_utf8_casefold (sotto_contact_get_name ((SottoContact *)b), -1);
  int cmp = g_utf8_collate (ka, kb);

  if (cmp != 0)
    return cmp;

  return sotto_contact_get_id ((SottoContact *)a) < sotto_contact_get_id ((SottoContact *)b) ? -1 : 1;
}

/* The contact list and its index by id change together, on the main
 * thread: looking a contact up by id is then no walk through the list
 * (the peer service does it for every contact when it starts). A
 * member-only peer is in the index and, while a group lists it, in the
 * list of members instead (sotto_store_get_members()). */
void
_sotto_store_contacts_insert (SottoStore   *self,
                              SottoContact *contact)
{
  gint64 id = sotto_contact_get_id (contact);

  /* Found by id from the moment the list says it has it: the list's
   * items-changed handlers look it up. */
  g_hash_table_replace (self->contacts_by_id, g_memdup2 (&id, sizeof id), g_object_ref (contact));
  switch (sotto_contact_get_member_only (contact))
    {
    case SOTTO_MEMBER_ONLY_NO:
      g_list_store_insert_sorted (self->contacts, contact, compare_contacts, NULL);
      break;
    case SOTTO_MEMBER_ONLY_ACTIVE:
      g_list_store_append (self->members, contact);
      break;
    case SOTTO_MEMBER_ONLY_FORMER:
    default:
      break;
    }
}

/* Takes @contact out of whichever list holds it (not the index). */
static void
lists_remove (SottoStore   *self,
              SottoContact *contact)
{
  guint position;

  if (g_list_store_find (self->contacts, contact, &position))
    g_list_store_remove (self->contacts, position);
  else if (g_list_store_find (self->members, contact, &position))
    g_list_store_remove (self->members, position);
}

static void
contacts_remove (SottoStore *self,
                 guint       position)
{
  g_autoptr (SottoContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), position);
  gint64 id = sotto_contact_get_id (contact);

  g_list_store_remove (self->contacts, position);
  g_hash_table_remove (self->contacts_by_id, &id);
}

/* @fresh, just read from the database, replaces what the lists hold of
 * that row: the same object is kept (views follow it), updated, and moved
 * to the list its kind now belongs in. */
SottoContact *
_sotto_store_contacts_replace (SottoStore   *self,
                               SottoContact *fresh)
{
  gint64 id = sotto_contact_get_id (fresh);
  SottoContact *known = g_hash_table_lookup (self->contacts_by_id, &id);
  g_autoptr (SottoContact) contact = NULL;

  if (known == NULL)
    {
      _sotto_store_contacts_insert (self, fresh);
      return fresh;
    }
  contact = g_object_ref (known);
  lists_remove (self, contact);
  _sotto_contact_update_from (contact, fresh);
  _sotto_store_contacts_insert (self, contact);
  return contact;
}

/**
 * sotto_store_get_members:
 *
 * Returns: (transfer none): a #GListModel of the #SottoContact rows that
 *   are member-only peers listed in a group we are in: dialled and
 *   accepted for group traffic, never shown as contacts
 */
GListModel *
sotto_store_get_members (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return G_LIST_MODEL (self->members);
}

/**
 * sotto_store_get_peer_by_key:
 *
 * Returns: (transfer none) (nullable): the contact or member-only peer
 *   (active or former) with that key
 */
SottoContact *
sotto_store_get_peer_by_key (SottoStore   *self,
                             const guint8 *public_key)
{
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (public_key != NULL, NULL);

  g_hash_table_iter_init (&iter, self->contacts_by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (sodium_memcmp (sotto_contact_get_public_key (value), public_key, SOTTO_KEY_LEN) == 0)
      return value;
  return NULL;
}

/**
 * sotto_store_get_contacts:
 *
 * Returns: (transfer none): a #GListModel of #SottoContact, sorted by name,
 *   kept up to date as contacts change
 */
GListModel *
sotto_store_get_contacts (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return G_LIST_MODEL (self->contacts);
}

/**
 * sotto_store_get_n_damaged_contacts:
 *
 * Returns: how many contacts were left out of sotto_store_get_contacts()
 *   when the store was opened, because their row no longer authenticates:
 *   it was changed behind Sotto's back or damaged
 */
guint
sotto_store_get_n_damaged_contacts (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), 0);

  return self->n_damaged_contacts;
}

SottoContact *
sotto_store_get_contact_by_key (SottoStore   *self,
                                const guint8 *public_key)
{
  guint n;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (public_key != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), i);

      if (sodium_memcmp (sotto_contact_get_public_key (contact), public_key, SOTTO_KEY_LEN) == 0)
        return contact;
    }

  return NULL;
}

/**
 * sotto_store_get_contact_by_id:
 *
 * Returns: (transfer none) (nullable): the contact with that id
 */
SottoContact *
sotto_store_get_contact_by_id (SottoStore *self,
                               gint64      id)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return g_hash_table_lookup (self->contacts_by_id, &id);
}

static char *
digits_only (const char *text)
{
  GString *digits = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (*p != ' ' && *p != '-')
        return g_string_free (digits, TRUE), NULL;
    }

  return g_string_free (digits, FALSE);
}

/* How well a contact matches what the user typed: exact beats prefix. */
typedef enum
{
  MATCH_NONE,
  MATCH_PREFIX,
  MATCH_EXACT,
} MatchKind;

static MatchKind
match_name (const char *name,
            const char *folded_query)
{
  g_autofree char *folded = NULL;

  if (name == NULL)
    return MATCH_NONE;

  folded = g_utf8_casefold (name, -1);
  if (g_str_equal (folded, folded_query))
    return MATCH_EXACT;
  if (g_str_has_prefix (folded, folded_query))
    return MATCH_PREFIX;

  return MATCH_NONE;
}

static MatchKind
match_contact (SottoContact *contact,
               const char   *folded_query,
               const char   *digits)
{
  MatchKind kind = MAX (match_name (sotto_contact_get_display_name (contact), folded_query),
                        match_name (sotto_contact_get_alias (contact), folded_query));

  if (kind == MATCH_NONE && digits != NULL && strlen (digits) >= 5)
    {
      g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);
      g_autofree char *fp_digits = digits_only (fingerprint);

      if (g_str_has_prefix (fp_digits, digits))
        kind = strlen (digits) == strlen (fp_digits) ? MATCH_EXACT : MATCH_PREFIX;
    }

  return kind;
}

/* The candidates of an ambiguous query, for the user to pick from:
 * “Name” (12345 67890), at most 8. */
static char *
dup_candidates (GPtrArray *matches)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < matches->len && i < 8; i++)
    {
      SottoContact *contact = g_ptr_array_index (matches, i);
      g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);

      if (i > 0)
        g_string_append (text, ", ");
      g_string_append_printf (text, "“%s” (%.11s)", sotto_contact_get_name (contact),
                              fingerprint);
    }
  if (matches->len > 8)
    g_string_append (text, ", …");

  return g_string_free (text, FALSE);
}

/**
 * sotto_store_find_contact:
 * @query: a contact's alias or name, or the start of one (any case); that
 *   whole alias or name after a “=”; or at least the first five digits of
 *   its fingerprint
 *
 * The query must fit one contact only. A whole name that also starts
 * another contact's name fits both: “bob” with contacts “Bob” and “Bob
 * Smith” is refused, and “=bob” is Bob. Otherwise a newly added contact
 * would silently take messages meant for one whose name it starts.
 *
 * Returns: (transfer none) (nullable): the one contact that matches, or
 *   %NULL with %SOTTO_ERROR_NOT_FOUND or, when several match (the message
 *   names them), %SOTTO_ERROR_INVALID_ARGUMENT
 */
SottoContact *
sotto_store_find_contact (SottoStore  *self,
                          const char  *query,
                          GError     **error)
{
  g_autofree char *folded = NULL;
  g_autofree char *digits = NULL;
  g_autoptr (GPtrArray) matches = g_ptr_array_new ();
  gboolean whole = FALSE;
  const char *name = query;
  guint n;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (name[0] == '=')
    {
      whole = TRUE;
      name++;
    }

  if (name[0] == '\0')
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("No contact given"));
      return NULL;
    }

  folded = g_utf8_casefold (name, -1);
  digits = whole ? NULL : digits_only (name);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), i);
      MatchKind kind = match_contact (contact, folded, digits);

      if (kind == MATCH_EXACT || (kind == MATCH_PREFIX && !whole))
        g_ptr_array_add (matches, contact);  /* the model keeps it alive */
    }

  if (matches->len == 1)
    return g_ptr_array_index (matches, 0);

  if (matches->len == 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                   _("No contact is called “%s”"), name);
    }
  else
    {
      g_autofree char *candidates = dup_candidates (matches);

      /* Translators: the second %s lists the contacts, as “Name” (12345 67890). */
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("“%s” could be any of %s: give more of the name, “=NAME” for "
                     "exactly that name, or at least five digits of the fingerprint"),
                   query, candidates);
    }

  return NULL;
}

static gboolean
same_name (const char *a,
           const char *b)
{
  g_autofree char *fa = NULL;
  g_autofree char *fb = NULL;

  if (a == NULL || b == NULL)
    return FALSE;
  fa = g_utf8_casefold (a, -1);
  fb = g_utf8_casefold (b, -1);
  return g_utf8_collate (fa, fb) == 0;
}

/**
 * sotto_store_match_invite:
 * @invite: an invite about to be added
 * @out_match: (out) (optional): what of it matched
 *
 * The contact an invite may be a new invite of: one with its key (pinned,
 * or offered while the key is in doubt), else one whose name or alias is
 * the invite's name (any case). Adding the invite would then make a
 * second contact for the same person; sotto_store_update_contact_from_invite_async()
 * updates the first instead.
 *
 * Returns: (transfer none) (nullable): the matching contact
 */
SottoContact *
sotto_store_match_invite (SottoStore        *self,
                          const SottoInvite *invite,
                          SottoContactMatch *out_match)
{
  SottoContact *by_name = NULL;
  SottoContact *found = NULL;
  SottoContactMatch match = SOTTO_CONTACT_MATCH_NONE;
  guint n;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (invite != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));
  for (guint i = 0; i < n && found == NULL; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), i);
      const guint8 *offered = sotto_contact_get_offered_key (contact);

      if (sodium_memcmp (sotto_contact_get_public_key (contact), invite->public_key,
                         SOTTO_KEY_LEN) == 0 ||
          (offered != NULL && sodium_memcmp (offered, invite->public_key, SOTTO_KEY_LEN) == 0))
        found = contact;  /* the model keeps it alive */
      else if (by_name == NULL &&
               (same_name (sotto_contact_get_display_name (contact), invite->display_name) ||
                same_name (sotto_contact_get_alias (contact), invite->display_name)))
        by_name = contact;
    }

  if (found != NULL)
    {
      match = SOTTO_CONTACT_MATCH_KEY;
      if (same_name (sotto_contact_get_display_name (found), invite->display_name) ||
          same_name (sotto_contact_get_alias (found), invite->display_name))
        match |= SOTTO_CONTACT_MATCH_NAME;
    }
  else if (by_name != NULL)
    {
      found = by_name;
      match = SOTTO_CONTACT_MATCH_NAME;
    }

  if (out_match != NULL)
    *out_match = match;
  return found;
}

/* -------------------------------------------------------------------------
 * Adding, removing and changing contacts
 * ------------------------------------------------------------------------- */

typedef struct
{
  gint64              id;
  guint8              public_key[SOTTO_KEY_LEN];
  char               *display_name;
  char               *alias;
  char              **addresses;
  int                 blocked;       /* -1: unchanged */
  int                 verification;  /* -1: unchanged */
  gboolean            alias_set;
  gboolean            addresses_set;
  /* public_key replaces the pinned key; with key_must_be_offered only if
   * it is the key the contact offered */
  gboolean            key_set;
  gboolean            key_must_be_offered;
  gboolean            offered_set;
  guint8              offered_key[SOTTO_KEY_LEN];
} ContactRequest;

static void
contact_request_free (ContactRequest *request)
{
  g_free (request->display_name);
  g_free (request->alias);
  g_strfreev (request->addresses);
  g_free (request);
}

/* Whether @public_key is a contact's other than @except_id. A row with
 * that key that no longer authenticates is no contact: it is hidden and
 * must not keep the person from being added again. Its key is replaced by
 * one of the wrong length, so the row stays what it is (damaged, counted,
 * its conversation kept) and the key is free. */
static gboolean
key_taken (SottoStore    *self,
           const guint8  *public_key,
           gint64         except_id,
           gboolean      *out_taken,
           GError       **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (sqlite3_stmt) release = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) local_error = NULL;
  gint64 id;
  int rc;

  _sotto_store_assert_worker (self);

  *out_taken = FALSE;
  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " CONTACT_COLUMNS " FROM contacts "
                                  "WHERE public_key = ? AND id != ?",
                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, public_key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, except_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading a contact"));

  id = sqlite3_column_int64 (stmt, 0);
  contact = contact_from_row (self, stmt, &local_error);
  if (contact != NULL)
    {
      *out_taken = TRUE;
      return TRUE;
    }
  if (!g_error_matches (local_error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  g_message ("Contact %" G_GINT64_FORMAT " is damaged: its key is freed for the person added now",
             id);
  release = _sotto_store_db_prepare (self,
                                     "UPDATE contacts SET public_key = randomblob (16) WHERE id = ?",
                                     error);
  if (release == NULL)
    return FALSE;
  sqlite3_bind_int64 (release, 1, id);

  return _sotto_store_db_step_done (self, release, error);
}

static gpointer
add_contact_job (SottoStore    *self,
                 gpointer       data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  ContactRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (sqlite3_stmt) conv = NULL;
  g_autoptr (GBytes) name = NULL;
  g_autoptr (GBytes) alias = NULL;
  g_autoptr (GBytes) addresses = NULL;
  gboolean taken = FALSE;
  gint64 id;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* Known from a group: the same row becomes a contact, with what the
   * user now gives (its group messages stay where they are). */
  {
    g_autoptr (sqlite3_stmt) member = NULL;

    member = _sotto_store_db_prepare (self,
                                      "SELECT id FROM contacts WHERE public_key = ? AND member_only != 0",
                                      error);
    if (member == NULL)
      goto failed;
    sqlite3_bind_blob (member, 1, request->public_key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
    if (sqlite3_step (member) == SQLITE_ROW)
      {
        g_autoptr (sqlite3_stmt) promote = NULL;

        id = sqlite3_column_int64 (member, 0);
        g_clear_pointer (&member, sqlite3_finalize);
        name = _sotto_store_seal_string (self, "contacts", "display_name", id, request->display_name);
        if (request->alias != NULL)
          alias = _sotto_store_seal_string (self, "contacts", "alias", id, request->alias);
        addresses = seal_addresses (self, id, (const char * const *)request->addresses);
        promote = _sotto_store_db_prepare (self,
                                           "UPDATE contacts SET member_only = 0, display_name = ?, "
                                           "alias = ?, addresses = ?, blocked = ? WHERE id = ?",
                                           error);
        if (promote == NULL)
          goto failed;
        _sotto_store_bind_sealed (promote, 1, name);
        if (alias != NULL)
          _sotto_store_bind_sealed (promote, 2, alias);
        _sotto_store_bind_sealed (promote, 3, addresses);
        sqlite3_bind_int (promote, 4, request->blocked == 1);
        sqlite3_bind_int64 (promote, 5, id);
        if (!_sotto_store_db_step_done (self, promote, error) ||
            !_sotto_store_bind_contact_row (self, id, error) ||
            !_sotto_store_db_commit (self, error))
          goto failed;
        return _sotto_store_load_contact (self, id, error);
      }
  }

  if (!key_taken (self, request->public_key, 0, &taken, error))
    goto failed;
  if (taken)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS,
                           _("This person is already one of your contacts"));
      goto failed;
    }

  if ((id = _sotto_store_db_next_id (self, "contacts", error)) == 0)
    goto failed;

  name = _sotto_store_seal_string (self, "contacts", "display_name", id, request->display_name);
  if (request->alias != NULL)
    alias = _sotto_store_seal_string (self, "contacts", "alias", id, request->alias);
  addresses = seal_addresses (self, id, (const char * const *)request->addresses);

  stmt = _sotto_store_db_prepare (self,
                                  "INSERT INTO contacts (id, public_key, display_name, alias, "
                                  "addresses, added, blocked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                  error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_blob (stmt, 2, request->public_key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
  _sotto_store_bind_sealed (stmt, 3, name);
  if (alias != NULL)
    _sotto_store_bind_sealed (stmt, 4, alias);
  _sotto_store_bind_sealed (stmt, 5, addresses);
  sqlite3_bind_int64 (stmt, 6, g_get_real_time ());
  sqlite3_bind_int (stmt, 7, request->blocked == 1);
  if (!_sotto_store_db_step_done (self, stmt, error) || !_sotto_store_bind_contact_row (self, id, error))
    goto failed;

  conv = _sotto_store_db_prepare (self, "INSERT INTO conversations (contact_id) VALUES (?)", error);
  if (conv == NULL)
    goto failed;
  sqlite3_bind_int64 (conv, 1, id);
  if (!_sotto_store_db_step_done (self, conv, error) || !_sotto_store_db_commit (self, error))
    goto failed;

  return _sotto_store_load_contact (self, id, error);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
add_contact_apply (SottoStore *self,
                   gpointer    request,
                   gpointer    data)
{
  g_autoptr (SottoContact) fresh = data;

  /* A member-only peer promoted keeps its object (and its session). */
  return g_object_ref (_sotto_store_contacts_replace (self, fresh));
}

/**
 * sotto_store_add_contact_async:
 * @invite: a parsed invite
 * @alias: (nullable): what to call the contact instead of their name
 *
 * Pins the invite's key as a contact. Fails with %SOTTO_ERROR_EXISTS for a
 * key that is already a contact, and %SOTTO_ERROR_INVALID_ARGUMENT for the
 * profile's own key.
 */
static void
add_contact (SottoStore          *self,
             const SottoInvite   *invite,
             const char          *alias,
             gboolean             blocked,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized_alias = NULL;
  ContactRequest *request;

  if (sodium_memcmp (invite->public_key, sotto_identity_get_public_key (self->identity),
                     SOTTO_KEY_LEN) == 0)
    g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                         _("This is your own invite"));
  /* Keeping someone out is never forbidden. */
  else if (blocked || self->policy == NULL ||
           sotto_policy_may_add_contacts (self->policy, &error))
    {
      if (alias != NULL && alias[0] != '\0')
        normalized_alias = sotto_display_name_normalize (alias, &error);
    }

  if (error != NULL)
    {
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED))
        {
          g_autofree char *what = g_strdup_printf (_("adding %s as a contact"),
                                                   invite->display_name);

          sotto_store_log_event (self, SOTTO_SECURITY_EVENT_POLICY_REFUSED, what, error->message);
        }
      g_task_report_error (self, callback, user_data, sotto_store_add_contact_async,
                           g_steal_pointer (&error));
      return;
    }

  request = g_new0 (ContactRequest, 1);
  memcpy (request->public_key, invite->public_key, SOTTO_KEY_LEN);
  request->display_name = g_strdup (invite->display_name);
  request->alias = g_steal_pointer (&normalized_alias);
  request->addresses = g_strdupv (invite->addresses);
  request->blocked = blocked ? 1 : 0;

  _sotto_store_schedule (self, sotto_store_add_contact_async, add_contact_job, add_contact_apply,
                         request, (GDestroyNotify)contact_request_free, g_object_unref,
                         cancellable, callback, user_data);
}

void
sotto_store_add_contact_async (SottoStore          *self,
                               const SottoInvite   *invite,
                               const char          *alias,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (invite != NULL);

  add_contact (self, invite, alias, FALSE, cancellable, callback, user_data);
}

/**
 * sotto_store_add_blocked_contact_async:
 * @invite: who to keep out (a stranger's key, name and address)
 *
 * Pins the key as a contact that is blocked from the start, in one
 * transaction: refused from then on, even by a process killed right
 * after, and allowed whatever allow-adding-contacts says. Finish with
 * sotto_store_add_contact_finish().
 */
void
sotto_store_add_blocked_contact_async (SottoStore          *self,
                                       const SottoInvite   *invite,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (invite != NULL);

  add_contact (self, invite, NULL, TRUE, cancellable, callback, user_data);
}

SottoContact *
sotto_store_add_contact_finish (SottoStore    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
remove_contact_job (SottoStore    *self,
                    gpointer       data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  ContactRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* Cascades to the conversation, its messages and the outbox; with
   * secure_delete their pages are overwritten, not just freed. */
  stmt = _sotto_store_db_prepare (self, "DELETE FROM contacts WHERE id = ?", error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, request->id);
  if (!_sotto_store_db_step_done (self, stmt, error))
    goto failed;

  if (sqlite3_changes (self->db) != 1)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such contact"));
      goto failed;
    }

  if (!_sotto_store_db_commit (self, error))
    goto failed;
  g_hash_table_remove (self->unstored, &request->id);

  return g_memdup2 (&request->id, sizeof request->id);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/* The security log's lines for a key change: marked, then accepted, or
 * refused by blocking or removing the contact (@after %NULL: removed). */
static void
log_key_resolution (SottoStore   *self,
                    SottoContact *before,
                    SottoContact *after)
{
  gboolean was_changed = sotto_contact_get_verification (before) == SOTTO_VERIFICATION_KEY_CHANGED;
  const guint8 *offered = sotto_contact_get_offered_key (before);
  g_autofree char *fingerprint = NULL;
  SottoSecurityEvent kind;

  if (after != NULL && !was_changed &&
      sotto_contact_get_verification (after) == SOTTO_VERIFICATION_KEY_CHANGED)
    {
      kind = SOTTO_SECURITY_EVENT_KEY_CHANGED;
      offered = sotto_contact_get_offered_key (after);
    }
  else if (was_changed && after != NULL &&
           sotto_contact_get_verification (after) != SOTTO_VERIFICATION_KEY_CHANGED)
    {
      kind = SOTTO_SECURITY_EVENT_KEY_ACCEPTED;
      offered = sotto_contact_get_public_key (after);
    }
  else if (was_changed && (after == NULL ||
                           (sotto_contact_get_blocked (after) && !sotto_contact_get_blocked (before))))
    kind = SOTTO_SECURITY_EVENT_KEY_REJECTED;
  else
    return;

  fingerprint = offered != NULL ? sotto_fingerprint_for_key (offered) : g_strdup ("");
  sotto_store_log_event (self, kind, sotto_contact_get_name (before), fingerprint);
}

static gpointer
remove_contact_apply (SottoStore *self,
                      gpointer    request,
                      gpointer    data)
{
  gint64 id = *(gint64 *)data;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));

  /* The conversation went with the contact. */
  _sotto_store_emit_history_purged (self, id, 0u);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), i);

      if (sotto_contact_get_id (contact) == id)
        {
          log_key_resolution (self, contact, NULL);
          contacts_remove (self, i);
          break;
        }
    }

  return data;
}

void
sotto_store_remove_contact_async (SottoStore          *self,
                                  SottoContact        *contact,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  ContactRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);

  _sotto_store_schedule (self, sotto_store_remove_contact_async, remove_contact_job,
                         remove_contact_apply, request, (GDestroyNotify)contact_request_free,
                         g_free, cancellable, callback, user_data);
}

gboolean
sotto_store_remove_contact_finish (SottoStore    *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_autofree gint64 *id = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  id = g_task_propagate_pointer (G_TASK (result), error);
  return id != NULL;
}

/* The contact keeps its row, and with it its conversation, history and
 * outbox: only the key it is known by changes. */
static gboolean
replace_key (SottoStore      *self,
             ContactRequest  *request,
             GError         **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean taken = FALSE;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "SELECT offered_key FROM contacts WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, request->id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such contact"));
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading a contact"));

  if (request->key_must_be_offered)
    {
      if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                               _("This contact has offered no new key to accept"));
          return FALSE;
        }
      /* The user compared one key; if the address has since answered with
       * yet another, that one was never compared. */
      if (sqlite3_column_bytes (stmt, 0) != SOTTO_KEY_LEN ||
          sodium_memcmp (sqlite3_column_blob (stmt, 0), request->public_key, SOTTO_KEY_LEN) != 0)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("This is not the key the contact now answers with: "
                                 "compare the safety number again"));
          return FALSE;
        }
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!key_taken (self, request->public_key, request->id, &taken, error))
    return FALSE;
  if (taken)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS,
                           _("This key already belongs to another of your contacts"));
      return FALSE;
    }

  stmt = _sotto_store_db_prepare (self,
                                  "UPDATE contacts SET public_key = ?, offered_key = NULL, signing_key = NULL "
                                  "WHERE id = ?",
                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, request->public_key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, request->id);
  return _sotto_store_db_step_done (self, stmt, error);
}

static gpointer
update_contact_job (SottoStore    *self,
                    gpointer       data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  ContactRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GBytes) alias = NULL;
  g_autoptr (SottoContact) before = NULL;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* A row changed behind our back is not signed again with the change. */
  if ((before = _sotto_store_load_contact (self, request->id, error)) == NULL)
    goto failed;

  /* A call that met the key the contact has had since it began (the user
   * took the new invite while the call was under way) changed nothing:
   * marking the contact would hold its messages for a key it already has. */
  if (request->offered_set && !request->key_set &&
      request->verification == SOTTO_VERIFICATION_KEY_CHANGED &&
      sodium_memcmp (request->offered_key, sotto_contact_get_public_key (before),
                     SOTTO_KEY_LEN) == 0)
    {
      _sotto_store_db_rollback (self);
      return g_steal_pointer (&before);
    }

  if (request->key_set && !replace_key (self, request, error))
    goto failed;

  if (request->offered_set)
    {
      stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET offered_key = ? WHERE id = ?",
                                      error);
      if (stmt == NULL)
        goto failed;
      sqlite3_bind_blob (stmt, 1, request->offered_key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, request->id);
      if (!_sotto_store_db_step_done (self, stmt, error))
        goto failed;
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (request->display_name != NULL)
    {
      g_autoptr (GBytes) name = _sotto_store_seal_string (self, "contacts", "display_name",
                                                          request->id, request->display_name);

      stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET display_name = ? WHERE id = ?",
                                      error);
      if (stmt == NULL)
        goto failed;
      _sotto_store_bind_sealed (stmt, 1, name);
      sqlite3_bind_int64 (stmt, 2, request->id);
      if (!_sotto_store_db_step_done (self, stmt, error))
        goto failed;
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (request->alias_set)
    {
      stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET alias = ? WHERE id = ?", error);
      if (stmt == NULL)
        goto failed;
      if (request->alias != NULL)
        {
          alias = _sotto_store_seal_string (self, "contacts", "alias", request->id, request->alias);
          _sotto_store_bind_sealed (stmt, 1, alias);
        }
      sqlite3_bind_int64 (stmt, 2, request->id);
      if (!_sotto_store_db_step_done (self, stmt, error))
        goto failed;
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (request->blocked >= 0)
    {
      stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET blocked = ? WHERE id = ?", error);
      if (stmt == NULL)
        goto failed;
      sqlite3_bind_int (stmt, 1, request->blocked);
      sqlite3_bind_int64 (stmt, 2, request->id);
      if (!_sotto_store_db_step_done (self, stmt, error))
        goto failed;
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (request->addresses_set)
    {
      g_autoptr (GBytes) addresses = seal_addresses (self, request->id,
                                                     (const char * const *)request->addresses);

      stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET addresses = ? WHERE id = ?",
                                      error);
      if (stmt == NULL)
        goto failed;
      _sotto_store_bind_sealed (stmt, 1, addresses);
      sqlite3_bind_int64 (stmt, 2, request->id);
      if (!_sotto_store_db_step_done (self, stmt, error))
        goto failed;
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (request->verification >= 0)
    {
      stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET verification = ? WHERE id = ?",
                                      error);
      if (stmt == NULL)
        goto failed;
      sqlite3_bind_int (stmt, 1, request->verification);
      sqlite3_bind_int64 (stmt, 2, request->id);
      if (!_sotto_store_db_step_done (self, stmt, error))
        goto failed;
      g_clear_pointer (&stmt, sqlite3_finalize);
    }

  if (!_sotto_store_bind_contact_row (self, request->id, error) || !_sotto_store_db_commit (self, error))
    goto failed;

  return _sotto_store_load_contact (self, request->id, error);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
update_contact_apply (SottoStore *self,
                      gpointer    request,
                      gpointer    data)
{
  g_autoptr (SottoContact) updated = data;
  gint64 id = sotto_contact_get_id (updated);
  SottoContact *contact = g_hash_table_lookup (self->contacts_by_id, &id);

  if (contact != NULL)
    {
      log_key_resolution (self, contact, updated);
      /* A new alias may move it in the sorted list; adding a member-only
       * peer as a contact moves it to the contacts. */
      _sotto_store_contacts_replace (self, updated);
    }

  return GINT_TO_POINTER (TRUE);
}

/**
 * sotto_store_update_contact_async:
 * @alias: (nullable): a new alias, "" to remove it, %NULL to leave it
 * @blocked: 0 or 1, or -1 to leave it
 * @verification: a #SottoVerification, or -1 to leave it
 *
 * Changes the contact in the database, then the #SottoContact in the
 * contacts model (which notifies).
 */
void
sotto_store_update_contact_async (SottoStore          *self,
                                  SottoContact        *contact,
                                  const char          *alias,
                                  int                  blocked,
                                  int                  verification,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  ContactRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (blocked >= -1 && blocked <= 1);
  g_return_if_fail (verification >= -1 && verification <= SOTTO_VERIFICATION_KEY_CHANGED);

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);
  request->blocked = blocked;
  request->verification = verification;
  if (alias != NULL)
    {
      request->alias_set = TRUE;
      if (alias[0] != '\0' && (request->alias = sotto_display_name_normalize (alias, &error)) == NULL)
        {
          contact_request_free (request);
          g_task_report_error (self, callback, user_data, sotto_store_update_contact_async,
                               g_steal_pointer (&error));
          return;
        }
    }

  _sotto_store_schedule (self, sotto_store_update_contact_async, update_contact_job,
                         update_contact_apply, request, (GDestroyNotify)contact_request_free, NULL,
                         cancellable, callback, user_data);
}

/**
 * sotto_store_set_contact_addresses_async:
 * @addresses: (array zero-terminated=1): where the contact was last
 *   reached, most recent first; each valid for
 *   sotto_invite_address_validate(), at most %SOTTO_INVITE_MAX_ADDRESSES
 *
 * Remembers where to dial the contact. Finish with
 * sotto_store_update_contact_finish().
 */
void
sotto_store_set_contact_addresses_async (SottoStore          *self,
                                         SottoContact        *contact,
                                         const char * const  *addresses,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  ContactRequest *request;
  guint n = addresses != NULL ? g_strv_length ((char **)addresses) : 0;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  if (n > SOTTO_INVITE_MAX_ADDRESSES)
    g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                 _("A contact has at most %d addresses"), SOTTO_INVITE_MAX_ADDRESSES);
  for (guint i = 0; error == NULL && i < n; i++)
    sotto_invite_address_validate (addresses[i], &error);
  if (error != NULL)
    {
      g_task_report_error (self, callback, user_data, sotto_store_set_contact_addresses_async,
                           g_steal_pointer (&error));
      return;
    }

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);
  request->blocked = -1;
  request->verification = -1;
  request->addresses_set = TRUE;
  request->addresses = g_strdupv ((char **)addresses);
  if (request->addresses == NULL)
    request->addresses = g_new0 (char *, 1);

  _sotto_store_schedule (self, sotto_store_set_contact_addresses_async, update_contact_job,
                         update_contact_apply, request, (GDestroyNotify)contact_request_free, NULL,
                         cancellable, callback, user_data);
}

/**
 * sotto_store_mark_key_changed_async:
 * @offered_key: (array fixed-size=32): the key the contact's address
 *   answered with instead of the pinned one
 *
 * Marks the contact %SOTTO_VERIFICATION_KEY_CHANGED and keeps the key it
 * now answers with, replacing one kept before: the user compares it and
 * accepts it with sotto_store_accept_contact_key_async(). Finish with
 * sotto_store_update_contact_finish().
 */
void
sotto_store_mark_key_changed_async (SottoStore          *self,
                                    SottoContact        *contact,
                                    const guint8        *offered_key,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  ContactRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (offered_key != NULL);

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);
  request->blocked = -1;
  request->verification = SOTTO_VERIFICATION_KEY_CHANGED;
  request->offered_set = TRUE;
  memcpy (request->offered_key, offered_key, SOTTO_KEY_LEN);

  _sotto_store_schedule (self, sotto_store_mark_key_changed_async, update_contact_job,
                         update_contact_apply, request, (GDestroyNotify)contact_request_free, NULL,
                         cancellable, callback, user_data);
}

/**
 * sotto_store_accept_contact_key_async:
 * @expected_key: (array fixed-size=32): the key the user compared: it must
 *   be the one the contact offered (sotto_contact_get_offered_key())
 * @verification: %SOTTO_VERIFICATION_VERIFIED after comparing safety
 *   numbers, or %SOTTO_VERIFICATION_UNVERIFIED
 *
 * Pins the key a key-changed contact now answers with, in place: the same
 * contact, conversation, history and outbox, under the new key. Fails with
 * %SOTTO_ERROR_NOT_FOUND when the contact offered no key,
 * %SOTTO_ERROR_INVALID_ARGUMENT when @expected_key is not the offered one
 * or is the profile's own, and %SOTTO_ERROR_EXISTS when another contact has
 * it. Nothing changes then.
 */
void
sotto_store_accept_contact_key_async (SottoStore          *self,
                                      SottoContact        *contact,
                                      const guint8        *expected_key,
                                      SottoVerification    verification,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  ContactRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (expected_key != NULL);
  g_return_if_fail (verification == SOTTO_VERIFICATION_VERIFIED ||
                    verification == SOTTO_VERIFICATION_UNVERIFIED);

  if (sodium_memcmp (expected_key, sotto_identity_get_public_key (self->identity),
                     SOTTO_KEY_LEN) == 0)
    {
      g_task_report_new_error (self, callback, user_data, sotto_store_accept_contact_key_async,
                               SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("This is your own key"));
      return;
    }

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);
  request->blocked = -1;
  request->verification = verification;
  request->key_set = TRUE;
  request->key_must_be_offered = TRUE;
  memcpy (request->public_key, expected_key, SOTTO_KEY_LEN);

  _sotto_store_schedule (self, sotto_store_accept_contact_key_async, update_contact_job,
                         update_contact_apply, request, (GDestroyNotify)contact_request_free, NULL,
                         cancellable, callback, user_data);
}

gboolean
sotto_store_accept_contact_key_finish (SottoStore    *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}

/**
 * sotto_store_update_contact_from_invite_async:
 * @contact: the contact the invite is for (see sotto_store_match_invite())
 * @invite: their new invite
 *
 * Takes a contact's new invite in place of adding a second contact: its
 * name, its addresses ahead of those known, and its key. A new key
 * replaces the pinned one on the same contact, conversation and outbox,
 * and makes the contact unverified: the user has not compared it yet.
 * The pinned key in the invite of a key-changed contact keeps that key
 * and lifts the mark (unverified), forgetting the key that answered.
 * Fails as sotto_store_accept_contact_key_async() does for a key that is
 * the profile's own or another contact's. Finish with
 * sotto_store_update_contact_finish().
 */
void
sotto_store_update_contact_from_invite_async (SottoStore          *self,
                                              SottoContact        *contact,
                                              const SottoInvite   *invite,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  const char * const *known;
  ContactRequest *request;
  guint n = 0;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (invite != NULL);

  if (sodium_memcmp (invite->public_key, sotto_identity_get_public_key (self->identity),
                     SOTTO_KEY_LEN) == 0)
    {
      g_task_report_new_error (self, callback, user_data,
                               sotto_store_update_contact_from_invite_async,
                               SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("This is your own invite"));
      return;
    }

  /* The invite's addresses are the newest; the known ones follow. */
  for (guint i = 0; invite->addresses[i] != NULL && n < SOTTO_INVITE_MAX_ADDRESSES; i++, n++)
    g_strv_builder_add (builder, invite->addresses[i]);
  known = sotto_contact_get_addresses (contact);
  for (guint i = 0; known[i] != NULL && n < SOTTO_INVITE_MAX_ADDRESSES; i++)
    if (!g_strv_contains ((const char * const *)invite->addresses, known[i]))
      {
        g_strv_builder_add (builder, known[i]);
        n++;
      }

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);
  request->blocked = -1;
  request->verification = -1;
  request->display_name = g_strdup (invite->display_name);
  request->addresses_set = TRUE;
  request->addresses = g_strv_builder_end (builder);
  if (sodium_memcmp (invite->public_key, sotto_contact_get_public_key (contact),
                     SOTTO_KEY_LEN) != 0)
    {
      request->key_set = TRUE;
      memcpy (request->public_key, invite->public_key, SOTTO_KEY_LEN);
      request->verification = SOTTO_VERIFICATION_UNVERIFIED;
    }
  else if (sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED)
    {
      /* Their invite still has the pinned key: whoever answered with
       * another one was not them. The pinned key stays, the mark goes,
       * and the offered key is forgotten. */
      request->key_set = TRUE;
      memcpy (request->public_key, invite->public_key, SOTTO_KEY_LEN);
      request->verification = SOTTO_VERIFICATION_UNVERIFIED;
    }

  _sotto_store_schedule (self, sotto_store_update_contact_from_invite_async, update_contact_job,
                         update_contact_apply, request, (GDestroyNotify)contact_request_free, NULL,
                         cancellable, callback, user_data);
}

/* request->addresses holds the one address to forget. Read and written in
 * one transaction: the addresses may have changed since the caller looked. */
static gpointer
remove_contact_address_job (SottoStore    *self,
                            gpointer       data,
                            GCancellable  *cancellable,
                            GError       **error)
{
  ContactRequest *request = data;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GStrvBuilder) kept = g_strv_builder_new ();
  g_auto (GStrv) addresses = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GBytes) sealed = NULL;
  const char * const *known;
  gboolean found = FALSE;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  contact = _sotto_store_load_contact (self, request->id, error);
  if (contact == NULL)
    goto failed;
  known = sotto_contact_get_addresses (contact);
  for (guint i = 0; known != NULL && known[i] != NULL; i++)
    {
      if (g_str_equal (known[i], request->addresses[0]))
        found = TRUE;
      else
        g_strv_builder_add (kept, known[i]);
    }
  if (!found)
    {
      _sotto_store_db_rollback (self);
      return g_steal_pointer (&contact);
    }

  addresses = g_strv_builder_end (kept);
  sealed = seal_addresses (self, request->id, (const char * const *)addresses);
  stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET addresses = ? WHERE id = ?", error);
  if (stmt == NULL)
    goto failed;
  _sotto_store_bind_sealed (stmt, 1, sealed);
  sqlite3_bind_int64 (stmt, 2, request->id);
  if (!_sotto_store_db_step_done (self, stmt, error))
    goto failed;
  if (!_sotto_store_db_commit (self, error))
    goto failed;

  return _sotto_store_load_contact (self, request->id, error);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/**
 * sotto_store_remove_contact_address_async:
 * @address: one of the contact's addresses, as sotto_contact_get_addresses()
 *   gives it
 *
 * Forgets where the contact was once reached, keeping the order of the
 * others. An address the contact does not have (any more) is no error.
 */
void
sotto_store_remove_contact_address_async (SottoStore          *self,
                                          SottoContact        *contact,
                                          const char          *address,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  ContactRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (address != NULL);

  request = g_new0 (ContactRequest, 1);
  request->id = sotto_contact_get_id (contact);
  request->blocked = -1;
  request->verification = -1;
  request->addresses = g_new0 (char *, 2);
  request->addresses[0] = g_strdup (address);

  _sotto_store_schedule (self, sotto_store_remove_contact_address_async,
                         remove_contact_address_job, update_contact_apply, request,
                         (GDestroyNotify)contact_request_free, NULL, cancellable, callback,
                         user_data);
}

gboolean
sotto_store_remove_contact_address_finish (SottoStore    *self,
                                           GAsyncResult  *result,
                                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}


gboolean
sotto_store_update_contact_finish (SottoStore    *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}
