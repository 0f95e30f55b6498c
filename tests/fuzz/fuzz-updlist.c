// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the signed update list: every input is parsed as a bare b2sum list and
 * verified as a signify envelope against the corpus key, and parsed lists go through the pick.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "updlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of tests/unit/data/updlist/updlist.pub: corpus/updlist/signed-list is signed by it. */
static const char corpus_key[] = "RWSoxidXmt0J9Knu3ldtJd5vifzc7j6Dr4CZg+RRtqAp34jFiB7c9n2f";

/* What the updater relies on for any list that parses: bare, bounded names; a sane pick. */
static void check_list(const struct awg_upd_list *l)
{
	char version[AWG_UPD_VERSION_MAX + 1];
	const struct awg_upd_entry *e = NULL;
	const char *why = NULL;
	size_t i, n;

	if (l->n == 0 || !l->v)
		abort();
	for (i = 0; i < l->n; i++) {
		n = strnlen(l->v[i].file, sizeof(l->v[i].file));
		if (n == 0 || n > AWG_UPD_FILE_MAX || l->v[i].file[0] == '.' ||
		    strchr(l->v[i].file, '/'))
			abort();
	}
	if (awg_upd_pick(l, "amd64", "deb", "0.1.0", &e, version, &why) == 0) {
		if (e < l->v || e >= l->v + l->n || strlen(version) == 0)
			abort();
	} else if (!why) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct awg_upd_pubkey pk;
	struct awg_upd_pubkey other;
	static int have_key;
	struct awg_upd_list l = { 0 };
	const char *why = NULL;
	int cmp;
	char *s;

	if (!have_key) {
		if (awg_upd_pubkey_parse(&pk, corpus_key, strlen(corpus_key), &why) != 0)
			abort();
		have_key = 1;
	}
	if (awg_upd_list_parse(&l, (const char *)data, size, &why) == 0)
		check_list(&l);
	else if (!why || l.v || l.n)
		abort();
	awg_upd_list_free(&l);

	if (awg_upd_list_verify(&l, &pk, (const char *)data, size, &why) == 0)
		check_list(&l);
	else if (!why || l.v || l.n)
		abort();
	awg_upd_list_free(&l);

	if (awg_upd_pubkey_parse(&other, (const char *)data, size, &why) != 0 && !why)
		abort();

	/* Versions are NUL-terminated strings: compare the input with itself and a fixed one. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (awg_upd_version_cmp(s, s, &cmp) == 0 && cmp != 0)
		abort();
	awg_upd_version_cmp(s, "0.1.0", &cmp);
	free(s);
	return 0;
}
