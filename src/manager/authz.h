/* SPDX-License-Identifier: MIT */
/*
 * Who may do what: the caller's role, derived afresh for every request from its uid, the
 * groups awg-admin and awg-operator and the policy file, and the one table that maps a method
 * and a role to allowed / allowed-redacted / refused.
 */
#ifndef _AWG_MANAGER_AUTHZ_H
#define _AWG_MANAGER_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "awg/manager-proto.h"

#define AWG_AUTHZ_ADMIN_GROUP		"awg-admin"
#define AWG_AUTHZ_OPERATOR_GROUP	"awg-operator"
#define AWG_AUTHZ_POLICY_PATH		"/etc/awg-suite/policy.conf"

/* The knobs of policy.conf ("Key = 0|1" lines, '#' comments), read at each use. */
struct awg_policy {
	bool limited_operator_ui;	/* LimitedOperatorUI: members of awg-operator may operate */
	bool dangerous_script_execution; /* DangerousScriptExecution: configs may run scripts */
};

/*
 * Reads the policy file; a missing file means all knobs off. Returns 0, or -EINVAL with why
 * (file:line: message) on a malformed file, in which case every knob is off.
 */
int awg_policy_read(const char *path, struct awg_policy *p, char *why, size_t whylen);

/*
 * The role of uid right now: admin (uid 0 or a member of awg-admin), operator (a member of
 * awg-operator while LimitedOperatorUI is on), or none. Group membership comes from the group
 * database at this moment (getgrouplist), so removing a user from a group takes effect on the
 * next request. why receives, for ROLE_NONE, the sentence that tells the caller why.
 */
enum awg_mgr_role awg_authz_role(uid_t uid, const char *policy_path, char *why, size_t whylen);

enum awg_authz_verdict {
	AWG_AUTHZ_ALLOW,
	AWG_AUTHZ_REDACT,	/* allowed, secrets removed from the reply */
	AWG_AUTHZ_DENY,
};

/*
 * The table: what role may call method. On DENY, why receives a sentence such as "you are not
 * allowed to delete tunnels (operator)".
 */
enum awg_authz_verdict awg_authz_check(enum awg_mgr_role role, unsigned method, char *why,
				       size_t whylen);

/* Events: UpdateProgress goes to admins only; everything else to every subscriber. */
bool awg_authz_event_allowed(enum awg_mgr_role role, unsigned event);

#endif /* _AWG_MANAGER_AUTHZ_H */
