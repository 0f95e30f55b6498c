/* SPDX-License-Identifier: MIT */
/*
 * The I1..I5 "custom signature packet" tag language (spec §5): parser and evaluator.
 * A compiled spec is an immutable list of items; evaluation draws randomness and time from
 * struct awg_env.
 */
#ifndef _AWG_ISPEC_H
#define _AWG_ISPEC_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "parse_error.h"

struct awg_ispec;

/* Upper bound on the payload one spec may produce; longer specs are rejected at parse time. */
#define AWG_ISPEC_MAX_PAYLOAD 65507

/*
 * Parses text[0..len) into a compiled spec.
 * Returns 0 and sets *out to an owned spec (free with awg_ispec_free), or 0 with *out = NULL when
 * the text contains no tag at all (the slot is cleared), or -EINVAL with err filled (column =
 * 1-based byte offset of the offending tag, message quoting it) for unknown or malformed tags.
 */
int awg_ispec_parse(const char *text, size_t len, struct awg_ispec **out,
		    struct awg_parse_error *err);
void awg_ispec_free(struct awg_ispec *spec);
/* Payload length the spec produces (fixed: every tag has a fixed length). */
size_t awg_ispec_len(const struct awg_ispec *spec);
/* Writes the payload into buf (cap >= awg_ispec_len). Returns the length written. */
size_t awg_ispec_eval(const struct awg_ispec *spec, uint8_t *buf, size_t cap,
		      const struct awg_env *env);

#endif /* _AWG_ISPEC_H */
