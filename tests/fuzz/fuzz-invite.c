/* fuzz-invite.c — invite URIs and address hints, as pasted from anywhere
 *
 * An invite that parses must write out again in its canonical form,
 * which parses to the same invite and writes out to the same text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "fuzz-common.h"
#include "sotto-error.h"
#include "sotto-invite.h"

static gboolean
invites_equal (const SottoInvite *a,
               const SottoInvite *b)
{
  return memcmp (a->public_key, b->public_key, SOTTO_KEY_LEN) == 0 &&
         g_strcmp0 (a->display_name, b->display_name) == 0 &&
         g_strv_equal ((const char * const *) a->addresses,
                       (const char * const *) b->addresses);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_malloc (size + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoInvite) again = NULL;
  g_autoptr (SottoInvite) made = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *uri_again = NULL;

  /* The parser takes a C string: the input up to its first NUL. */
  memcpy (text, data, size);
  text[size] = '\0';

  if (sotto_invite_address_validate (text, &error))
    FUZZ_CHECK (strlen (text) <= SOTTO_INVITE_ADDRESS_MAX_LEN);
  else
    FUZZ_CHECK (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT));
  g_clear_error (&error);

  invite = sotto_invite_parse (text, &error);
  if (invite == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == SOTTO_ERROR);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (invite->addresses != NULL);
  FUZZ_CHECK (g_strv_length (invite->addresses) <= SOTTO_INVITE_MAX_ADDRESSES);

  uri = sotto_invite_to_uri (invite);
  FUZZ_CHECK (uri != NULL);
  FUZZ_CHECK (strlen (uri) <= SOTTO_INVITE_MAX_LEN);

  again = sotto_invite_parse (uri, &error);
  FUZZ_CHECK (error == NULL && again != NULL);
  FUZZ_CHECK (invites_equal (invite, again));

  uri_again = sotto_invite_to_uri (again);
  FUZZ_CHECK (strcmp (uri, uri_again) == 0);

  /* Whatever was read, the constructor accepts too. */
  made = sotto_invite_new (invite->public_key, invite->display_name,
                           (const char * const *) invite->addresses, &error);
  FUZZ_CHECK (error == NULL && made != NULL);
  FUZZ_CHECK (invites_equal (invite, made));

  return 0;
}
