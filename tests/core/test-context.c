/* test-context.c — profiles and SottoContext
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "sotto-core.h"

static char *
dup_name_of_length (gsize len)
{
  char *name = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    name[i] = "abcdefghij0123456789"[i % 20];
  name[len] = '\0';

  return name;
}

static void
test_profile_name_valid (void)
{
  static const char *names[] = {
    "default", "a", "7", "work", "Work-2", "a_b", "x-", "9lives", NULL
  };

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("name: %s", names[i]);
      g_assert_true (sotto_profile_name_validate (names[i], &error));
      g_assert_no_error (error);
    }
}

static void
test_profile_name_invalid (void)
{
  static const char *names[] = {
    "", "-a", "_a", "a b", "a/b", "../x", "..", ".", "a.b", "ä", "a\nb", "a:b", "a\\b", " a",
    NULL
  };

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("name: %s", names[i]);
      g_assert_false (sotto_profile_name_validate (names[i], &error));
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (error->message);
    }
}

static void
test_profile_name_null (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (sotto_profile_name_validate (NULL, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_profile_name_limit (void)
{
  g_autofree char *at_limit = dup_name_of_length (SOTTO_PROFILE_NAME_MAX);
  g_autofree char *past_limit = dup_name_of_length (SOTTO_PROFILE_NAME_MAX + 1);
  g_autofree char *far_past = dup_name_of_length (10000);
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_profile_name_validate (at_limit, &error));
  g_assert_no_error (error);

  g_assert_false (sotto_profile_name_validate (past_limit, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, G_STRINGIFY (SOTTO_PROFILE_NAME_MAX)));
  g_clear_error (&error);

  g_assert_false (sotto_profile_name_validate (far_past, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_profile_application_id (void)
{
  g_autofree char *longest = dup_name_of_length (SOTTO_PROFILE_NAME_MAX);
  g_autofree char *id_default = sotto_profile_application_id ("im.sotto.Sotto", "default");
  g_autofree char *id_work = sotto_profile_application_id ("im.sotto.Sotto", "work");
  g_autofree char *id_digit = sotto_profile_application_id ("im.sotto.Sotto.Devel", "9lives");
  g_autofree char *id_dash = sotto_profile_application_id ("im.sotto.Sotto", "a-b_c");
  g_autofree char *id_long = sotto_profile_application_id ("im.sotto.Sotto.Devel", longest);

  g_assert_cmpstr (id_default, ==, "im.sotto.Sotto");
  g_assert_cmpstr (id_work, ==, "im.sotto.Sotto.Profile_work");
  g_assert_cmpstr (id_digit, ==, "im.sotto.Sotto.Devel.Profile_9lives");

  /* Every valid profile name gives a valid, distinct application id. */
  g_assert_true (g_application_id_is_valid (id_work));
  g_assert_true (g_application_id_is_valid (id_digit));
  g_assert_true (g_application_id_is_valid (id_dash));
  g_assert_true (g_application_id_is_valid (id_long));
  g_assert_cmpstr (id_work, !=, id_default);
}

static void
test_context_default_dir (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "sotto", "default", NULL);

  context = sotto_context_new (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_context_get_profile (context), ==, "default");
  g_assert_true (sotto_context_is_default_profile (context));
  g_assert_cmpstr (sotto_context_get_profile_dir (context), ==, expected);

  /* Nothing is created until asked. */
  g_assert_false (g_file_test (expected, G_FILE_TEST_EXISTS));
}

static void
test_context_named_profile (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "sotto", "work", NULL);

  context = sotto_context_new ("work", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_context_get_profile (context), ==, "work");
  g_assert_false (sotto_context_is_default_profile (context));
  g_assert_cmpstr (sotto_context_get_profile_dir (context), ==, expected);
}

static void
test_context_invalid_profile (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;

  context = sotto_context_new ("../../etc", NULL, &error);
  g_assert_null (context);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_context_relative_profile_dir (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = g_build_filename (cwd, "some", "dir", NULL);

  context = sotto_context_new (NULL, "some/./dir/", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_context_get_profile_dir (context), ==, expected);
}

static SottoContext *
new_context_in_tmp (const char *leaf,
                    char      **out_dir)
{
  g_autoptr (GError) error = NULL;
  SottoContext *context;

  *out_dir = g_build_filename (g_get_user_data_dir (), "profiles", leaf, NULL);
  context = sotto_context_new ("test", *out_dir, &error);
  g_assert_no_error (error);

  return context;
}

static void
test_context_ensure_creates_private (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  GStatBuf st;

  context = new_context_in_tmp ("fresh", &dir);
  g_assert_true (sotto_context_ensure_profile_dir (context, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);

  /* Idempotent. */
  g_assert_true (sotto_context_ensure_profile_dir (context, &error));
  g_assert_no_error (error);
}

static void
test_context_ensure_tightens (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  GStatBuf st;

  context = new_context_in_tmp ("open", &dir);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);

  g_assert_true (sotto_context_ensure_profile_dir (context, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
}

static void
test_context_ensure_not_a_directory (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *contents = NULL;

  context = new_context_in_tmp ("a-file", &dir);
  parent = g_path_get_dirname (dir);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_assert_true (g_file_set_contents (dir, "keep me", -1, NULL));

  g_assert_false (sotto_context_ensure_profile_dir (context, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE);
  g_assert_nonnull (strstr (error->message, dir));

  /* The file in the way is left alone. */
  g_assert_true (g_file_get_contents (dir, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "keep me");
}

static void
test_context_ensure_refuses_symlink (void)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *elsewhere = NULL;
  GStatBuf st;

  context = new_context_in_tmp ("link", &dir);
  parent = g_path_get_dirname (dir);
  elsewhere = g_build_filename (parent, "elsewhere", NULL);
  g_assert_cmpint (g_mkdir_with_parents (elsewhere, 0755), ==, 0);
  g_assert_cmpint (symlink (elsewhere, dir), ==, 0);

  g_assert_false (sotto_context_ensure_profile_dir (context, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE);

  /* The link's target was not touched. */
  g_assert_cmpint (g_stat (elsewhere, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/profile/name/valid", test_profile_name_valid);
  g_test_add_func ("/profile/name/invalid", test_profile_name_invalid);
  g_test_add_func ("/profile/name/null", test_profile_name_null);
  g_test_add_func ("/profile/name/limit", test_profile_name_limit);
  g_test_add_func ("/profile/application-id", test_profile_application_id);
  g_test_add_func ("/context/default-dir", test_context_default_dir);
  g_test_add_func ("/context/named-profile", test_context_named_profile);
  g_test_add_func ("/context/invalid-profile", test_context_invalid_profile);
  g_test_add_func ("/context/relative-profile-dir", test_context_relative_profile_dir);
  g_test_add_func ("/context/ensure-dir/creates-private", test_context_ensure_creates_private);
  g_test_add_func ("/context/ensure-dir/tightens", test_context_ensure_tightens);
  g_test_add_func ("/context/ensure-dir/not-a-directory", test_context_ensure_not_a_directory);
  g_test_add_func ("/context/ensure-dir/refuses-symlink", test_context_ensure_refuses_symlink);

  return g_test_run ();
}
