// SPDX-License-Identifier: MIT
/* Owns transport keypairs: seal/open of data messages and current/previous/next rotation. */
#include "keypair.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"

void awg_keypair_wipe(struct awg_keypair *kp)
{
	awg_wipe(kp, sizeof(*kp));
}

/* Both directions die at reject_after_ns; a keypair never comes back to life. */
static bool usable(const struct awg_keypair *kp, uint64_t now_ns)
{
	return kp->valid && !awg_keypair_expired(kp, now_ns);
}

int awg_keypair_reserve(struct awg_keypair *kp, uint8_t *msg, uint64_t now_ns, uint64_t *counter)
{
	if (!usable(kp, now_ns) || !kp->sending_valid)
		return -EKEYEXPIRED;
	/* A nonce must never repeat: stop well before the counter could wrap. */
	if (kp->sending_counter >= AWG_REJECT_AFTER_MESSAGES)
		return -EKEYEXPIRED;
	*counter = kp->sending_counter++;
	awg_le32_put(msg + 4, kp->remote_index);
	awg_le64_put(msg + 8, *counter);
	return 0;
}

int awg_keypair_seal(struct awg_keypair *kp, uint8_t *msg, size_t padded_len, uint64_t now_ns,
		     uint64_t *counter_out)
{
	uint8_t *payload = msg + AWG_MSG_DATA_HEADER_LEN;
	uint64_t counter;
	int ret = awg_keypair_reserve(kp, msg, now_ns, &counter);

	if (ret < 0)
		return ret;
	awg_aead_encrypt(payload, payload, padded_len, NULL, 0, counter, kp->sending_key);
	if (counter_out)
		*counter_out = counter;
	return 0;
}

int awg_keypair_open_check(const struct awg_keypair *kp, size_t msg_len, uint64_t now_ns)
{
	if (msg_len < AWG_MSG_DATA_MIN_LEN)
		return -EINVAL;
	if (!usable(kp, now_ns) || kp->receiving_counter.next >= AWG_REJECT_AFTER_MESSAGES)
		return -EKEYEXPIRED;
	return 0;
}

int awg_keypair_open_accept(struct awg_keypair *kp, uint64_t counter)
{
	return awg_counter_validate(&kp->receiving_counter, counter) ? 0 : -EALREADY;
}

int awg_keypair_open(struct awg_keypair *kp, uint8_t *msg, size_t msg_len, uint64_t now_ns,
		     size_t *plain_len)
{
	uint8_t *payload = msg + AWG_MSG_DATA_HEADER_LEN;
	uint64_t counter;
	size_t len;
	int ret = awg_keypair_open_check(kp, msg_len, now_ns);

	if (ret < 0)
		return ret;
	len = msg_len - AWG_MSG_DATA_HEADER_LEN;
	counter = awg_le64_get(msg + 8);
	if (!awg_aead_decrypt(payload, payload, len, NULL, 0, counter, kp->receiving_key))
		return -EBADMSG;
	if (awg_keypair_open_accept(kp, counter) < 0) {
		awg_wipe(payload, len - AWG_AUTHTAG_LEN);
		return -EALREADY;
	}
	*plain_len = len - AWG_AUTHTAG_LEN;
	return 0;
}

void awg_keypairs_init(struct awg_keypairs *kps)
{
	memset(kps, 0, sizeof(*kps));
}

void awg_keypairs_clear(struct awg_keypairs *kps)
{
	awg_wipe(kps->slot, sizeof(kps->slot));
	kps->current = kps->previous = kps->next = NULL;
}

static void drop(struct awg_keypair *kp)
{
	if (kp)
		awg_keypair_wipe(kp);
}

static bool in_use(const struct awg_keypairs *kps, const struct awg_keypair *kp)
{
	return kp == kps->current || kp == kps->previous || kp == kps->next;
}

/*
 * At most two keypairs survive the rotation in awg_keypairs_add() (see there), so one of the
 * three slots is always free when it asks.
 */
static struct awg_keypair *free_slot(struct awg_keypairs *kps)
{
	for (size_t i = 0; i < sizeof(kps->slot) / sizeof(kps->slot[0]); i++)
		if (!in_use(kps, &kps->slot[i]))
			return &kps->slot[i];
	return NULL;
}

struct awg_keypair *awg_keypairs_add(struct awg_keypairs *kps, struct awg_keypair *kp)
{
	struct awg_keypair *slot;

	if (kp->is_initiator) {
		if (kps->next) {
			/*
			 * We answered their handshake but they never used the result, and now
			 * ours completed: their keypair is younger than current, so it is the
			 * better fallback; current and previous go.
			 */
			drop(kps->previous);
			drop(kps->current);
			kps->previous = kps->next;
			kps->next = NULL;
		} else {
			drop(kps->previous);
			kps->previous = kps->current;
		}
		kps->current = NULL;
		slot = free_slot(kps);
		kps->current = slot;
	} else {
		/*
		 * As responder we cannot know the initiator got our response until it sends
		 * with the new keys, so they wait in next. Previous goes: current is still what
		 * we send with, and its predecessor is older than anything the peer still uses.
		 */
		drop(kps->next);
		drop(kps->previous);
		kps->next = kps->previous = NULL;
		slot = free_slot(kps);
		kps->next = slot;
	}
	memcpy(slot, kp, sizeof(*slot));
	awg_keypair_wipe(kp);
	return slot;
}

bool awg_keypairs_received_with(struct awg_keypairs *kps, struct awg_keypair *kp)
{
	if (!kp || kp != kps->next)
		return false;
	drop(kps->previous);
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
	return true;
}

struct awg_keypair *awg_keypairs_find(struct awg_keypairs *kps, uint32_t local_index)
{
	struct awg_keypair *candidates[] = { kps->current, kps->previous, kps->next };

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (candidates[i] && candidates[i]->valid &&
		    candidates[i]->local_index == local_index)
			return candidates[i];
	return NULL;
}

void awg_keypairs_expire_current(struct awg_keypairs *kps)
{
	if (kps->next)
		kps->next->sending_valid = false;
	if (kps->current)
		kps->current->sending_valid = false;
}
