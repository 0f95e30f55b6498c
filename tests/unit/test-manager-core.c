// SPDX-License-Identifier: MIT
/*
 * The manager's decisions, without a socket: the authorisation table (every method for every
 * role), the policy file, redaction (no secret survives, peers stay distinguishable), and the
 * Windows intersection rule (exact prefixes, not overlap).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "config.h"
#include "crypto.h"
#include "harness.h"
#include "overlap.h"
#include "redact.h"

static void table(void)
{
	static const unsigned admin_only[] = { AWG_MGR_DELETE, AWG_MGR_CREATE, AWG_MGR_QUIT,
					       AWG_MGR_UPDATE };
	char why[256];

	for (unsigned m = 0; m < AWG_MGR_METHODS; m++) {
		bool adm = false;

		for (size_t i = 0; i < sizeof(admin_only) / sizeof(admin_only[0]); i++)
			adm |= admin_only[i] == m;
		CHECK_INT(awg_authz_check(AWG_MGR_ROLE_ADMIN, m, why, sizeof(why)), AWG_AUTHZ_ALLOW);
		CHECK_INT(awg_authz_check(AWG_MGR_ROLE_NONE, m, why, sizeof(why)), AWG_AUTHZ_DENY);
		if (adm) {
			CHECK_INT(awg_authz_check(AWG_MGR_ROLE_OPERATOR, m, why, sizeof(why)),
				  AWG_AUTHZ_DENY);
			CHECK(strstr(why, "(operator)") != NULL);
		} else if (m == AWG_MGR_STORED_CONFIG || m == AWG_MGR_RUNTIME_CONFIG) {
			CHECK_INT(awg_authz_check(AWG_MGR_ROLE_OPERATOR, m, why, sizeof(why)),
				  AWG_AUTHZ_REDACT);
		} else {
			CHECK_INT(awg_authz_check(AWG_MGR_ROLE_OPERATOR, m, why, sizeof(why)),
				  AWG_AUTHZ_ALLOW);
		}
	}
	awg_authz_check(AWG_MGR_ROLE_OPERATOR, AWG_MGR_DELETE, why, sizeof(why));
	CHECK(!strcmp(why, "you are not allowed to delete tunnels (operator)"));
	CHECK_INT(awg_authz_check(AWG_MGR_ROLE_ADMIN, AWG_MGR_METHODS, why, sizeof(why)),
		  AWG_AUTHZ_DENY);
	CHECK(!awg_authz_event_allowed(AWG_MGR_ROLE_OPERATOR, AWG_MGR_EV_UPDATE_PROGRESS));
	CHECK(awg_authz_event_allowed(AWG_MGR_ROLE_OPERATOR, AWG_MGR_EV_TUNNEL_CHANGE));
	CHECK(awg_authz_event_allowed(AWG_MGR_ROLE_ADMIN, AWG_MGR_EV_UPDATE_PROGRESS));
	CHECK(!awg_authz_event_allowed(AWG_MGR_ROLE_NONE, AWG_MGR_EV_TUNNEL_CHANGE));
	/* uid 0 is admin without any group lookup. */
	CHECK_INT(awg_authz_role(0, "/nonexistent", why, sizeof(why)), AWG_MGR_ROLE_ADMIN);
}

static int policy_text(const char *text, struct awg_policy *p)
{
	char path[] = "/tmp/awg-test-policy-XXXXXX", why[256];
	int fd = mkstemp(path), ret;

	CHECK_INT(write(fd, text, strlen(text)), strlen(text));
	close(fd);
	ret = awg_policy_read(path, p, why, sizeof(why));
	unlink(path);
	return ret;
}

static void policy(void)
{
	struct awg_policy p;
	char why[256];

	CHECK_INT(policy_text("# c\nLimitedOperatorUI = 1\ndangerousscriptexecution=0\n", &p), 0);
	CHECK(p.limited_operator_ui && !p.dangerous_script_execution);
	/* A malformed file grants nothing, not even what its good lines say. */
	CHECK_INT(policy_text("LimitedOperatorUI = 1\nDangerousScriptExecution = yes\n", &p),
		  -EINVAL);
	CHECK(!p.limited_operator_ui && !p.dangerous_script_execution);
	CHECK_INT(policy_text("LimitedOperatorUI = 1\nSomething = 1\n", &p), -EINVAL);
	CHECK(!p.limited_operator_ui);
	CHECK_INT(awg_policy_read("/nonexistent/policy.conf", &p, why, sizeof(why)), 0);
	CHECK(!p.limited_operator_ui);
}

#define K1 "yJTMDp9r86O4pUmNVtFH7v0Ygo9vTuNDlWPlfbx7AHg="
#define K2 "g8px2TnUUlDES3pRrzC4i0/0Sw5zOdbZYZNlLM2e73A="
#define K3 "qA/tHn+kspz/EiC8RtU3/w1D1l6EoZqmxq4XDx3Gb3w="

static void redaction(void)
{
	static const char text[] =
		"[Interface]\nPrivateKey = " K1 "\nAddress = 10.0.0.2/24\nDNS = 10.0.0.1\n"
		"HeaderProtectionKey = " K3 "\nS1 = 20\nS2 = 20\nS3 = 20\nS4 = 20\nI1 = <r 16>\n"
		"PreUp = echo secret-pre\n"
		"PostUp = echo secret-post\nPreDown = echo secret-predown\nPostDown = echo secret-x\n"
		"[Peer]\nPublicKey = " K2 "\nPresharedKey = " K3 "\nAllowedIPs = 0.0.0.0/0\n"
		"Endpoint = 192.0.2.1:51820\n[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.9.0.0/24\n";
	struct awg_parse_error err;
	struct awg_conf c;
	char *out = NULL, b64[64];
	uint8_t ph[32];
	size_t len = 0;

	awg_conf_init(&c);
	if (!CHECK_INT(awg_conf_parse(&c, text, strlen(text), AWG_CONF_DIALECT_QUICK, &err), 0))
		fprintf(stderr, "    line %u: %s\n", err.line, err.msg);
	awg_redact_conf(&c);
	CHECK_INT(awg_conf_write(&c, &out, &len, AWG_CONF_WRITE_QUICK), 0);
	CHECK(strstr(out, K1) == NULL && strstr(out, K2) == NULL && strstr(out, K3) == NULL);
	CHECK(strstr(out, "secret") == NULL);
	CHECK(strstr(out, "PrivateKey") == NULL && strstr(out, "PresharedKey") == NULL &&
	      strstr(out, "HeaderProtectionKey") == NULL);
	/* What is not secret stays: addresses, DNS, obfuscation, endpoints, allowed IPs. */
	CHECK(strstr(out, "Address = 10.0.0.2/24") && strstr(out, "I1 = <r 16>") &&
	      strstr(out, "Endpoint = 192.0.2.1:51820") && strstr(out, "AllowedIPs = 10.9.0.0/24"));
	/* Peers become index placeholders: distinguishable, and no key at all. */
	for (unsigned i = 0; i < 2; i++) {
		awg_redact_placeholder(ph, i);
		awg_key_to_base64(b64, ph);
		CHECK(strstr(out, b64) != NULL);
	}
	awg_wipe(out, len);
	free(out);
	awg_conf_free(&c);
}

static int conf(struct awg_conf *c, const char *text)
{
	struct awg_parse_error err;

	awg_conf_init(c);
	return awg_conf_parse(c, text, strlen(text), AWG_CONF_DIALECT_QUICK, &err);
}

static void intersection(void)
{
	static const struct {
		const char *a, *b;
		bool hit;
	} cases[] = {
		/* same network of the addresses */
		{ "Address = 10.0.0.2/24\n", "Address = 10.0.0.3/24\n", true },
		/* the same host */
		{ "Address = 10.0.0.2/32\n", "Address = 10.0.0.2/24\n", true },
		/* allowed IPs masked */
		{ "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.1.2.3/16\n",
		  "[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.1.0.0/16\n", true },
		/* exact prefixes only: a /8 and a /16 inside it do not intersect */
		{ "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.0.0.0/8\n",
		  "[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.1.0.0/16\n", false },
		{ "Address = 10.0.0.2/24\n", "Address = 10.0.1.2/24\n", false },
		{ "Address = fd00::2/64\n", "[Peer]\nPublicKey = " K3 "\nAllowedIPs = fd00::/64\n",
		  true },
		{ "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 0.0.0.0/0\n",
		  "[Peer]\nPublicKey = " K3 "\nAllowedIPs = ::/0\n", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct awg_conf a, b;
		char ta[256], tb[256];

		snprintf(ta, sizeof(ta), "[Interface]\n%s", cases[i].a);
		snprintf(tb, sizeof(tb), "[Interface]\n%s", cases[i].b);
		CHECK_INT(conf(&a, ta), 0);
		CHECK_INT(conf(&b, tb), 0);
		if (!CHECK(awg_overlap(&a, &b) == cases[i].hit) ||
		    !CHECK(awg_overlap(&b, &a) == cases[i].hit))
			fprintf(stderr, "    case %zu\n", i);
		awg_conf_free(&a);
		awg_conf_free(&b);
	}
}

TEST_MAIN("manager-core", T(table), T(policy), T(redaction), T(intersection))
