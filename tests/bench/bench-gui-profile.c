/* bench-gui-profile.c — makes the profile the GUI benchmark opens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bench-gui-profile DIR CONTACTS MESSAGES
 * A keyring-protected profile (a Secret Service must be on the session
 * bus) with CONTACTS contacts and MESSAGES messages spread over them,
 * written in bulk; the history of the first contact is the longest.
 */
#include "config.h"

#include <sodium.h>

#include "sotto-core.h"
#include "sotto-store-private.h"
#include "sotto-test-util.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) contacts = g_ptr_array_new_with_free_func (g_object_unref);
  SottoStore *store;
  guint n_contacts;
  guint n_messages;
  guint written = 0;

  if (argc != 4 || sodium_init () < 0)
    {
      g_printerr ("usage: %s DIR CONTACTS MESSAGES\n", argv[0]);
      return 2;
    }
  n_contacts = (guint)g_ascii_strtoull (argv[2], NULL, 10);
  n_messages = (guint)g_ascii_strtoull (argv[3], NULL, 10);
  if (n_contacts == 0)
    g_error ("at least one contact, please");

  g_mkdir_with_parents (argv[1], 0700);
  store = sotto_test_create_store (argv[1], "Benchmark", SOTTO_KEY_PROTECTION_KEYRING, NULL,
                                   &error);
  if (store == NULL)
    g_error ("create: %s", error->message);

  for (guint i = 0; i < n_contacts; i++)
    {
      g_autofree char *name = g_strdup_printf ("Colleague %04u", i);
      SottoContact *contact = sotto_test_add_contact (store, name, NULL, NULL, &error);

      if (contact == NULL)
        g_error ("add: %s", error->message);
      g_ptr_array_add (contacts, contact);
    }

  /* Half the messages with the first contact, the rest spread evenly. */
  for (guint c = 0; c < n_contacts && written < n_messages; c++)
    {
      guint share = c == 0 ? n_messages / 2
                           : (n_messages - n_messages / 2) / MAX (n_contacts - 1, 1);
      g_autoptr (GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GAsyncResult) result = NULL;

      if (c == n_contacts - 1)
        share = n_messages - written;
      for (guint m = 0; m < share; m++)
        g_ptr_array_add (bodies, g_strdup_printf ("Message %u about the quarterly numbers, "
                                                  "the meeting at ten and lunch.", m));
      if (bodies->len == 0)
        continue;
      _sotto_store_insert_history_async (store, g_ptr_array_index (contacts, c), bodies,
                                         g_get_real_time () - (gint64)share * 60 * G_USEC_PER_SEC,
                                         60 * G_USEC_PER_SEC, sotto_test_result_cb, &result);
      if (!_sotto_store_insert_history_finish (store, sotto_test_wait (&result), &error))
        g_error ("history: %s", error->message);
      written += bodies->len;
    }

  sotto_test_close_store (&store);
  g_print ("%u contacts, %u messages\n", n_contacts, written);
  return 0;
}
