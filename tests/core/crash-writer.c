/* crash-writer.c — queues messages until it is killed, for test-crash
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: crash-writer PROFILE-DIR PASSPHRASE RUN
 *
 * Opens the profile, prints "ready", then queues "crash-test RUN N" for
 * N = 0, 1, ... to the profile's only contact, one at a time. Each message
 * is reported as
 *
 *   committed UID-HEX ID BODY
 *
 * only after sotto_store_queue_message_finish() returned it: a reported
 * message is one the store has promised to keep. test-crash kills this
 * program with SIGKILL at random moments and checks that promise.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sodium.h>

#include "sotto-core.h"
#include "sotto-test-util.h"

static void G_GNUC_NORETURN
die (const char   *what,
     const GError *error)
{
  fprintf (stderr, "crash-writer: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (EXIT_FAILURE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  GListModel *contacts;
  g_autoptr (SottoContact) contact = NULL;
  const char *run;

  if (argc != 4)
    {
      fprintf (stderr, "Usage: %s PROFILE-DIR PASSPHRASE RUN\n", argv[0]);
      return EXIT_FAILURE;
    }
  run = argv[3];

  /* Never outlive the test, whatever happens to it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);

  if (sodium_init () < 0)
    {
      fprintf (stderr, "crash-writer: libsodium could not be initialized\n");
      return EXIT_FAILURE;
    }

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_open_async (argv[1], argv[2], NULL, sotto_test_result_cb, &result);
    store = sotto_store_open_finish (sotto_test_wait (&result), &error);
    if (store == NULL)
      die ("opening the store", error);
  }

  contacts = sotto_store_get_contacts (store);
  if (g_list_model_get_n_items (contacts) != 1)
    {
      fprintf (stderr, "crash-writer: expected one contact, found %u\n",
               g_list_model_get_n_items (contacts));
      return EXIT_FAILURE;
    }
  contact = g_list_model_get_item (contacts, 0);

  printf ("ready\n");
  fflush (stdout);

  /* Bounded, so that a test that forgot to kill us still ends. */
  for (guint n = 0; n < 1000000; n++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (SottoMessage) message = NULL;
      g_autofree char *body = g_strdup_printf ("crash-test %s %u", run, n);
      g_autofree char *uid_hex = NULL;

      sotto_store_queue_message_async (store, contact, body, NULL, sotto_test_result_cb, &result);
      message = sotto_store_queue_message_finish (store, sotto_test_wait (&result), &error);
      if (message == NULL)
        die ("queueing a message", error);

      /* Only now is the message promised; one write(2) per line, so a kill
       * never leaves half a line that could be mistaken for a whole one. */
      uid_hex = sotto_message_dup_uid_hex (message);
      printf ("committed %s %" G_GINT64_FORMAT " %s\n",
              uid_hex, sotto_message_get_id (message), sotto_message_get_body (message));
      fflush (stdout);
    }

  return EXIT_SUCCESS;
}
