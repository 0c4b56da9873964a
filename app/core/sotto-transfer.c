/* sotto-transfer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A transfer is what both sides keep of one file: the offer as it was
 * made (name, size, hash, first bytes, declared type), where it stands,
 * and, until the peer has acknowledged it, the last word we owe the peer
 * about it (PROTOCOL.md, "Files"). The file transfer service changes it;
 * the store keeps it; front ends read it and follow its notifications.
 */
#define G_LOG_DOMAIN "sotto-transfer"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-text.h"
#include "sotto-transfer-private.h"

struct _SottoTransfer
{
  GObject parent_instance;

  /* the offer, fixed */
  gint64              contact_id;
  guint8              uid[SOTTO_FILE_ID_LEN];
  SottoDirection      direction;
  gint64              offered;        /* the sender's clock */
  char               *name;
  guint64             size;
  guint8              hash[SOTTO_FILE_HASH_LEN];
  GBytes             *head;
  char               *declared_type;

  /* where it stands */
  gint64              id;             /* the store's row, 0 until stored */
  gint64              received;       /* incoming: when the offer arrived, our clock */
  SottoTransferState  state;
  SottoFileCancelReason reason;       /* why it was cancelled, 0 otherwise */
  gboolean            by_peer;        /* the peer ended it */
  char               *path;           /* out: the source; in: the .part, then the file */
  guint64             progress;
  SottoScanResult     scan;

  /* the word we owe the peer */
  SottoTransferOwes   owes;
  guint8              owed_uid[SOTTO_MESSAGE_UID_LEN];
  guint8              owed_code;
};

G_DEFINE_FINAL_TYPE (SottoTransfer, sotto_transfer, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SottoTransferState, sotto_transfer_state,
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_QUEUED, "queued"),
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_OFFERED, "offered"),
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_ACTIVE, "active"),
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_CHECKING, "checking"),
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_INFECTED, "infected"),
                    G_DEFINE_ENUM_VALUE (SOTTO_TRANSFER_CANCELLED, "cancelled"))

enum {
  PROP_0,
  PROP_STATE,
  PROP_PROGRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
sotto_transfer_finalize (GObject *object)
{
  SottoTransfer *self = (SottoTransfer *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->head, g_bytes_unref);
  g_clear_pointer (&self->declared_type, g_free);
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (sotto_transfer_parent_class)->finalize (object);
}

static void
sotto_transfer_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SottoTransfer *self = SOTTO_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_PROGRESS:
      g_value_set_uint64 (value, self->progress);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_transfer_class_init (SottoTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_transfer_finalize;
  object_class->get_property = sotto_transfer_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, SOTTO_TYPE_TRANSFER_STATE, SOTTO_TRANSFER_QUEUED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] =
    g_param_spec_uint64 ("progress", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_transfer_init (SottoTransfer *self)
{
}

SottoTransfer *
_sotto_transfer_new (gint64          contact_id,
                     const guint8   *uid,
                     SottoDirection  direction,
                     gint64          offered,
                     const char     *name,
                     guint64         size,
                     const guint8   *hash,
                     GBytes         *head,
                     const char     *declared_type)
{
  SottoTransfer *self = g_object_new (SOTTO_TYPE_TRANSFER, NULL);

  self->contact_id = contact_id;
  memcpy (self->uid, uid, SOTTO_FILE_ID_LEN);
  self->direction = direction;
  self->offered = offered;
  self->name = g_strdup (name);
  self->size = size;
  memcpy (self->hash, hash, SOTTO_FILE_HASH_LEN);
  self->head = head != NULL ? g_bytes_ref (head) : g_bytes_new (NULL, 0);
  self->declared_type = g_strdup (declared_type != NULL ? declared_type : "");
  self->state = direction == SOTTO_DIRECTION_OUT ? SOTTO_TRANSFER_QUEUED : SOTTO_TRANSFER_OFFERED;

  return self;
}

/* A snapshot for the store's worker: the service goes on changing the
 * original while the write is under way. */
SottoTransfer *
_sotto_transfer_copy (SottoTransfer *self)
{
  SottoTransfer *copy;

  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  copy = _sotto_transfer_new (self->contact_id, self->uid, self->direction, self->offered,
                              self->name, self->size, self->hash, self->head,
                              self->declared_type);
  copy->id = self->id;
  copy->received = self->received;
  copy->state = self->state;
  copy->reason = self->reason;
  copy->by_peer = self->by_peer;
  copy->path = g_strdup (self->path);
  copy->progress = self->progress;
  copy->scan = self->scan;
  copy->owes = self->owes;
  memcpy (copy->owed_uid, self->owed_uid, sizeof copy->owed_uid);
  copy->owed_code = self->owed_code;

  return copy;
}

void
_sotto_transfer_set_id (SottoTransfer *self,
                        gint64         id)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  self->id = id;
}

void
_sotto_transfer_set_state (SottoTransfer      *self,
                           SottoTransferState  state)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
_sotto_transfer_end (SottoTransfer         *self,
                     SottoFileCancelReason  reason,
                     gboolean               by_peer)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  self->reason = reason;
  self->by_peer = by_peer;
  _sotto_transfer_set_state (self, SOTTO_TRANSFER_CANCELLED);
}

void
_sotto_transfer_set_path (SottoTransfer *self,
                          const char    *path)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  if (self->path != path)
    {
      g_free (self->path);
      self->path = g_strdup (path);
    }
}

/* Whatever the state: the source, the part file or the saved file. */
const char *
_sotto_transfer_peek_path (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return self->path;
}

void
_sotto_transfer_set_progress (SottoTransfer *self,
                              guint64        progress)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  if (self->progress == progress)
    return;
  self->progress = progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

void
_sotto_transfer_set_scan (SottoTransfer   *self,
                          SottoScanResult  scan)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  self->scan = scan;
}

void
_sotto_transfer_set_received (SottoTransfer *self,
                              gint64         received)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  self->received = received;
}

gint64
_sotto_transfer_get_received (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->received;
}

/* A new word for the peer, under a new message id: whatever was owed
 * before is replaced (a receipt for it changes nothing any more). */
void
_sotto_transfer_owe (SottoTransfer     *self,
                     SottoTransferOwes  owes,
                     guint8             code)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  self->owes = owes;
  self->owed_code = code;
  if (owes != SOTTO_TRANSFER_OWES_NOTHING)
    randombytes_buf (self->owed_uid, sizeof self->owed_uid);
  else
    memset (self->owed_uid, 0, sizeof self->owed_uid);
}

void
_sotto_transfer_set_owed (SottoTransfer     *self,
                          SottoTransferOwes  owes,
                          const guint8      *uid,
                          guint8             code)
{
  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  self->owes = owes;
  self->owed_code = code;
  if (uid != NULL)
    memcpy (self->owed_uid, uid, sizeof self->owed_uid);
  else
    memset (self->owed_uid, 0, sizeof self->owed_uid);
}

SottoTransferOwes
_sotto_transfer_get_owes (SottoTransfer  *self,
                          const guint8  **out_uid,
                          guint8         *out_code)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), SOTTO_TRANSFER_OWES_NOTHING);

  if (out_uid != NULL)
    *out_uid = self->owed_uid;
  if (out_code != NULL)
    *out_code = self->owed_code;
  return self->owes;
}

gint64
sotto_transfer_get_id (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->id;
}

gint64
sotto_transfer_get_contact_id (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->contact_id;
}

const guint8 *
sotto_transfer_get_uid (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return self->uid;
}

char *
sotto_transfer_dup_uid_hex (SottoTransfer *self)
{
  char *hex;

  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  hex = g_malloc (SOTTO_FILE_ID_LEN * 2 + 1);
  return sodium_bin2hex (hex, SOTTO_FILE_ID_LEN * 2 + 1, self->uid, SOTTO_FILE_ID_LEN);
}

SottoDirection
sotto_transfer_get_direction (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), SOTTO_DIRECTION_OUT);

  return self->direction;
}

SottoTransferState
sotto_transfer_get_state (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), SOTTO_TRANSFER_CANCELLED);

  return self->state;
}

/* Done, infected or cancelled: nothing more will happen to it. */
gboolean
sotto_transfer_is_ended (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), TRUE);

  return self->state >= SOTTO_TRANSFER_DONE;
}

SottoFileCancelReason
sotto_transfer_get_reason (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->reason;
}

gboolean
sotto_transfer_get_ended_by_peer (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), FALSE);

  return self->by_peer;
}

/* The name as the sender gave it: untrusted, never a path. Show it
 * through sotto_transfer_check()'s shown_name and safe_name. */
const char *
sotto_transfer_get_name (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return self->name;
}

const char *
sotto_transfer_get_declared_type (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return self->declared_type;
}

guint64
sotto_transfer_get_size (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->size;
}

const guint8 *
sotto_transfer_get_hash (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return self->hash;
}

GBytes *
sotto_transfer_get_head (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return self->head;
}

gint64
sotto_transfer_get_offered (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->offered;
}

/* Outgoing: the file offered. Incoming: the file saved, once done;
 * %NULL before (its part file is the service's business). */
const char *
sotto_transfer_get_path (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  if (self->direction == SOTTO_DIRECTION_IN && self->state != SOTTO_TRANSFER_DONE)
    return NULL;
  return self->path;
}

guint64
sotto_transfer_get_progress (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), 0);

  return self->progress;
}

SottoScanResult
sotto_transfer_get_scan (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), SOTTO_SCAN_NOT_SCANNED);

  return self->scan;
}

/**
 * sotto_transfer_dup_shown_name:
 *
 * The offered name as people may see it: hidden and direction characters
 * written out (⟦U+202E⟧), so that it cannot pass for another. Reads
 * nothing from disk, unlike sotto_transfer_check().
 *
 * Returns: (transfer full): the name to show
 */
char *
sotto_transfer_dup_shown_name (SottoTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  return sotto_text_reveal_hidden (self->name, TRUE);
}

/**
 * sotto_transfer_check:
 *
 * What the file guard says about the file: from the offer (its name,
 * first bytes and size) until it is saved, then from the saved file and
 * the scanner's answer.
 *
 * Returns: (transfer full): the verdict
 */
SottoFileVerdict *
sotto_transfer_check (SottoTransfer *self)
{
  SottoFileContent content = { 0 };
  gsize head_len = 0;

  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  if (self->direction == SOTTO_DIRECTION_IN && self->state == SOTTO_TRANSFER_DONE &&
      self->path != NULL)
    {
      SottoFileVerdict *verdict = sotto_file_guard_check_path (self->path, self->name,
                                                               self->scan, NULL, NULL);

      if (verdict != NULL)
        return verdict;
    }

  content.head = g_bytes_get_data (self->head, &head_len);
  content.head_len = head_len;
  content.size = self->size;
  content.scan = self->scan;
  return sotto_file_guard_check (self->name, &content);
}

/* "PDF document", or the MIME type itself when shared-mime-info has no
 * words for it. */
static char *
describe_type (const char *type)
{
  g_autofree char *description = NULL;

  if (type == NULL || *type == '\0')
    return g_strdup (_("unknown type"));
  description = g_content_type_get_description (type);
  return description != NULL && *description != '\0' ? g_steal_pointer (&description)
                                                       : g_strdup (type);
}

/**
 * sotto_transfer_dup_offer_about:
 * @sender: the contact's name
 * @verification: where the contact's key stands
 *
 * What a receiver should know before accepting a file, from the offer
 * alone (nothing is read from disk): what its name and its first bytes
 * say it is, who sent it and whether their key was verified, and the
 * file guard's findings. The virus scan runs once the file is in, so
 * "not scanned yet" is not said here.
 *
 * Returns: (transfer full): one statement per line, translated
 */
char *
sotto_transfer_dup_offer_about (SottoTransfer     *self,
                                const char        *sender,
                                SottoVerification  verification)
{
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autoptr (GString) about = g_string_new (NULL);
  g_autofree char *declared = NULL;
  g_autofree char *sniffed = NULL;

  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);
  g_return_val_if_fail (sender != NULL, NULL);

  verdict = sotto_transfer_check (self);
  declared = describe_type (verdict->declared_type);
  sniffed = describe_type (verdict->sniffed_type);
  if (verdict->declared_type != NULL && verdict->sniffed_type != NULL &&
      !g_content_type_equals (verdict->declared_type, verdict->sniffed_type) &&
      !g_content_type_is_a (verdict->declared_type, verdict->sniffed_type) &&
      !g_content_type_is_unknown (verdict->sniffed_type))
    /* Translators: what a file offered is: "Named as PDF document; its content is ELF executable". */
    g_string_append_printf (about, _("Named as %s; its content is %s"), declared, sniffed);
  else
    /* Translators: what a file offered is: "Type: PDF document". */
    g_string_append_printf (about, _("Type: %s"), declared);
  g_string_append_c (about, '\n');

  switch (verification)
    {
    case SOTTO_VERIFICATION_VERIFIED:
      g_string_append_printf (about, _("From %s, whose key you verified"), sender);
      break;
    case SOTTO_VERIFICATION_KEY_CHANGED:
      g_string_append_printf (about, _("From %s, whose key has changed since you last spoke"),
                              sender);
      break;
    case SOTTO_VERIFICATION_UNVERIFIED:
    default:
      g_string_append_printf (about, _("From %s, whose key you have not verified"), sender);
      break;
    }

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      if (g_str_equal (finding->id, "not-scanned"))
        continue;
      g_string_append_c (about, '\n');
      g_string_append (about, finding->text);
    }
  return g_string_free (g_steal_pointer (&about), FALSE);
}

typedef struct
{
  char            *path;   /* the saved file, or NULL: judge the offer */
  char            *name;
  SottoScanResult  scan;
  GBytes          *head;
  guint64          size;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_free (data->path);
  g_free (data->name);
  g_bytes_unref (data->head);
  g_free (data);
}

static void
check_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CheckData *data = task_data;
  SottoFileVerdict *verdict = NULL;

  if (data->path != NULL)
    verdict = sotto_file_guard_check_path (data->path, data->name, data->scan, NULL, NULL);
  if (verdict == NULL)
    {
      SottoFileContent content = { 0 };
      gsize head_len = 0;

      content.head = g_bytes_get_data (data->head, &head_len);
      content.head_len = head_len;
      content.size = data->size;
      content.scan = data->scan;
      verdict = sotto_file_guard_check (data->name, &content);
    }
  g_task_return_pointer (task, verdict, (GDestroyNotify)sotto_file_verdict_free);
}

/**
 * sotto_transfer_check_async:
 *
 * sotto_transfer_check() in a thread, for a front end's main loop: a
 * saved file is read (its start, and a ZIP archive's list of entries at
 * its end) from disk.
 */
void
sotto_transfer_check_async (SottoTransfer       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  CheckData *data;

  g_return_if_fail (SOTTO_IS_TRANSFER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_transfer_check_async);
  /* What the thread reads is copied: the transfer changes on the main
   * thread. */
  data = g_new0 (CheckData, 1);
  if (self->direction == SOTTO_DIRECTION_IN && self->state == SOTTO_TRANSFER_DONE)
    data->path = g_strdup (self->path);
  data->name = g_strdup (self->name);
  data->scan = self->scan;
  data->head = g_bytes_ref (self->head);
  data->size = self->size;
  g_task_set_task_data (task, data, (GDestroyNotify)check_data_free);
  g_task_run_in_thread (task, check_thread);
}

/**
 * sotto_transfer_check_finish:
 *
 * Returns: (transfer full): the verdict
 */
SottoFileVerdict *
sotto_transfer_check_finish (SottoTransfer  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
sotto_transfer_state_to_string (SottoTransferState state)
{
  GEnumClass *klass = g_type_class_ref (SOTTO_TYPE_TRANSFER_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : "unknown";
}

/* For scripts: "declined", "too-large", … */
const char *
sotto_file_cancel_reason_to_string (SottoFileCancelReason reason)
{
  switch (reason)
    {
    case SOTTO_FILE_CANCEL_DECLINED:    return "declined";
    case SOTTO_FILE_CANCEL_CANCELLED:   return "cancelled";
    case SOTTO_FILE_CANCEL_NOT_ALLOWED: return "not-allowed";
    case SOTTO_FILE_CANCEL_TOO_LARGE:   return "too-large";
    case SOTTO_FILE_CANCEL_DAMAGED:     return "damaged";
    case SOTTO_FILE_CANCEL_UNAVAILABLE: return "unavailable";
    case SOTTO_FILE_CANCEL_STORAGE:     return "storage";
    default:                            return NULL;
    }
}

/**
 * sotto_transfer_dup_description:
 *
 * Returns: (transfer full): where the transfer stands, as a sentence for
 *   people: "Waiting for your answer", "Declined by your contact", …
 */
char *
sotto_transfer_dup_description (SottoTransfer *self)
{
  gboolean out;

  g_return_val_if_fail (SOTTO_IS_TRANSFER (self), NULL);

  out = self->direction == SOTTO_DIRECTION_OUT;
  switch (self->state)
    {
    case SOTTO_TRANSFER_QUEUED:
      return g_strdup (_("Waiting to reach your contact"));
    case SOTTO_TRANSFER_OFFERED:
      return g_strdup (out ? _("Waiting for your contact to accept")
                           : _("Waiting for your answer"));
    case SOTTO_TRANSFER_ACTIVE:
      return g_strdup (out ? _("Sending") : _("Receiving"));
    case SOTTO_TRANSFER_CHECKING:
      return g_strdup (_("Checking the received file"));
    case SOTTO_TRANSFER_DONE:
      if (out)
        return g_strdup (_("Received by your contact"));
      if (self->scan == SOTTO_SCAN_CLEAN)
        return g_strdup (_("Received; no virus found"));
      return g_strdup (_("Received; not checked for viruses"));
    case SOTTO_TRANSFER_INFECTED:
      return g_strdup (out ? _("Your contact’s virus scanner found this file infected")
                           : _("The virus scanner found this file infected: it was removed"));
    case SOTTO_TRANSFER_CANCELLED:
    default:
      break;
    }

  switch (self->reason)
    {
    case SOTTO_FILE_CANCEL_DECLINED:
      return g_strdup (out ? _("Declined by your contact") : _("Declined"));
    case SOTTO_FILE_CANCEL_NOT_ALLOWED:
      return g_strdup (self->by_peer ? _("Your contact’s settings do not allow file transfers")
                                     : _("File transfers are turned off on this computer"));
    case SOTTO_FILE_CANCEL_TOO_LARGE:
      return g_strdup (self->by_peer ? _("Too large for your contact’s settings")
                                     : _("Larger than this computer accepts"));
    case SOTTO_FILE_CANCEL_DAMAGED:
      return g_strdup (_("Failed: the received file did not match what was offered"));
    case SOTTO_FILE_CANCEL_UNAVAILABLE:
      return g_strdup (_("Failed: the file could no longer be read on the sending computer"));
    case SOTTO_FILE_CANCEL_STORAGE:
      return g_strdup (_("Failed: the receiving computer could not save the file"));
    case SOTTO_FILE_CANCEL_CANCELLED:
    default:
      return g_strdup (self->by_peer ? _("Cancelled by your contact") : _("Cancelled"));
    }
}
