/* replay-main.c — runs a fuzz target over saved inputs, without libFuzzer
 *
 * The normal build links every target with this main() and runs it over
 * its corpus as a test: seeds and old crashers keep being checked, with
 * gcc and under the sanitize build, where libFuzzer is not available.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "fuzz-common.h"

static gboolean
run_file (const char  *path,
          guint       *n_run,
          GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree guint8 *exact = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;

  /* A buffer of exactly the input's size, as libFuzzer passes it, so
   * that ASan catches a read one past the end. */
  exact = g_malloc (MAX (len, 1));
  memcpy (exact, contents, len);
  LLVMFuzzerTestOneInput (exact, len);
  (*n_run)++;

  return TRUE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static gboolean
run_path (const char  *path,
          guint       *n_run,
          GError     **error)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path, n_run, error);

  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return FALSE;

  /* In a fixed order, so that a failure is reproducible. */
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);

      if (g_file_test (child, G_FILE_TEST_IS_REGULAR) && !run_file (child, n_run, error))
        return FALSE;
    }

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  guint n_run = 0;

  if (argc < 2)
    {
      g_printerr ("usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
      return 2;
    }

  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;

      if (!run_path (argv[i], &n_run, &error))
        {
          g_printerr ("%s: %s\n", argv[0], error->message);
          return 1;
        }
    }

  g_print ("ran %u input%s\n", n_run, n_run == 1 ? "" : "s");

  /* An empty or misplaced corpus must not pass as a green test. */
  return n_run > 0 ? 0 : 1;
}
