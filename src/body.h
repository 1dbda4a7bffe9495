/* body.h: response bodies saved to files (-o, -O, --output-dir). */
#ifndef BODY_H
#define BODY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Where bodies go.  A file's name comes from a template in curl's -w
 * syntax, expanded for each URL (see body_name()); -O is the template
 * "%{filename}".  Names are relative to dir and never leave it.  The
 * strings are borrowed (from argv) and must outlive every run.
 */
struct body_config {
	const char	*name;		/* NULL (bodies are discarded) or
					   borrowed: the template. */
	const char	*dir;		/* NULL (the working directory) or
					   borrowed: --output-dir. */
	bool		 create_dirs;	/* Create dir and the directories a
					   name has, as needed. */
};

/*
 * Checks a template before any URL is read: it must be relative, without
 * empty, "." or ".." components of its own.  (Its variables are checked
 * with output_vars_check() and body_var_name().)  Returns 0, or -1 with a
 * one-line reason in err.
 */
int		body_check(const char *tmpl, char *err, size_t errlen);

/*
 * The name of template variable i, from 0, for the help and the manual;
 * NULL past the last.
 */
const char	*body_var_name(size_t i);

/*
 * Expands c->name for URL number urlnum, whose host and path (from the
 * URL as given, never from a redirect) are host and path, percent-encoding
 * kept: %{urlnum} is the number, %{host} the host, %{path} the path
 * without its leading '/' ('/' separating directories), %{filename} the
 * path's last segment, as curl's -O takes it; %% is '%'.  Every byte of
 * a variable below 0x20, 0x7f and '\\' becomes '_', a segment "." or ".."
 * becomes "_", and %{host} and %{filename} have '/' made '_' too, so a
 * hostile URL cannot name a file outside c->dir.  Returns the name
 * (malloced; the caller frees it), or NULL with a one-line reason in err:
 * an empty name or component (a URL without a file name, as curl's -O
 * refuses it) or ENOMEM.  Thread-safe.
 */
char		*body_name(const struct body_config *c, size_t urlnum,
		    const char *host, const char *path, char *err,
		    size_t errlen);

/*
 * The path (malloced; the caller frees it) that every body is saved to
 * when c->name has no variable, as records show it, so that it can be
 * checked before any URL is read; NULL when the name depends on the URL
 * (or when out of memory).
 */
char		*body_fixed_path(const struct body_config *c);

/*
 * A body being saved: a temporary file beside where it will go, renamed
 * to its name only when complete.  A zero struct with fd -1 holds
 * nothing; body_open() fills it, and body_commit() or body_abort() empties
 * it again.  One thread uses it at a time.
 */
struct body_file {
	int	 dirfd;		/* -1, or owned: the file's directory. */
	int	 fd;		/* -1, or owned: the temporary file. */
	char	*tmp;		/* NULL or malloced: its name in dirfd;
				   NULL with fd open: it has none
				   (O_TMPFILE). */
	char	*base;		/* NULL or malloced: the final name's last
				   component, in dirfd. */
	char	*path;		/* NULL or malloced: dir/name, as records
				   show it. */
	int	 werr;		/* 0, or the errno of a failed write. */
};

/* Makes f hold nothing, for a struct never opened. */
void		body_init(struct body_file *f);

/*
 * Opens a temporary file, without a name where the file system allows
 * (O_TMPFILE), else with a hidden one, for the body to be saved as name
 * (from body_name()) in c->dir, creating the directories on the way with
 * c->create_dirs.  No component is followed if it is a symbolic link,
 * except in c->dir itself, which is the user's.  Returns 0, or -1 with
 * errno set and a one-line reason naming the file in err.  Blocks on the
 * file system only.
 */
int		body_open(struct body_file *f, const struct body_config *c,
		    const char *name, char *err, size_t errlen);

/*
 * Empties the temporary file for another attempt.  Returns 0, or -1 with
 * errno set (and f->werr).
 */
int		body_rewind(struct body_file *f);

/*
 * Appends len bytes to the temporary file, whole.  Returns 0, or -1 with
 * errno set; f->werr keeps the first error.
 */
int		body_write(struct body_file *f, const void *p, size_t len);

/*
 * Gives the complete file its name, unless a file of that name exists
 * (another URL's, or one there before): it is never replaced.  Returns the
 * path written (malloced, now the caller's), or NULL with errno set
 * (EEXIST for a name taken) and a one-line reason in err; either way the
 * temporary file is gone and f holds nothing.
 */
char		*body_commit(struct body_file *f, char *err, size_t errlen);

/* Removes the temporary file, if any, and empties f.  Idempotent. */
void		body_abort(struct body_file *f);

#endif /* BODY_H */
