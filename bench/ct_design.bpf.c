// SPDX-License-Identifier: GPL-2.0
/*
 * ct_design: the expiry designs issue 15 asked us to choose between, each cut down to what a
 * connection costs the table: two entries (ORIG and REPLY, as fwd_ct has) of fwd_ct_entry's
 * size, and one way to make them leave. bench/ct_design.c runs every program here with
 * BPF_PROG_TEST_RUN and reports nanoseconds per connection.
 *
 *   timer_np   HASH, allocated on insert, a bpf_timer per connection (fwd 0.x's design)
 *   timer_pa   the same on a preallocated HASH
 *   life_np    HASH, allocated on insert, an expiry field; a sweep walks the table
 *   life_pa    the same preallocated
 *   fifo_pa    preallocated HASH with an expiry field, and a QUEUE of the keys in the order they
 *              were created: a sweep pops the expired head, re-queues what was refreshed
 *   lru        LRU_HASH with an expiry field checked at lookup (Katran's, Cilium's shape)
 *   flat       the floor of any table: an ARRAY of entries with the key inline, indexed by a
 *              hash of the key (no probing, no collisions handled): one memory access a lookup
 *   slots_np   HASH, allocated on insert, an expiry field; every connection also holds a slot
 *              of an ARRAY (its key and a lower bound of its expiry) taken from a QUEUE of
 *              free slots: a sweep reads the array in order and looks up only the connections
 *              whose lower bound passed
 *   paged      an ARRAY of 4 KiB pages, each a spin lock and 39 cells (a key and its entry
 *              inline); a key hashes (keyed, seeded) to a page and a home cell there, and is
 *              found by probing on from its home inside the page: one memory access for most
 *              lookups, as flat, but a table (nothing is overwritten, two CPUs cannot insert
 *              one key twice: inserts and deletes take the page's lock, lookups take none)
 *   paged_km   the same pages, 7 to an inner ARRAY of an ARRAY_OF_MAPS: small arrays are
 *              kmalloc'ed, in the kernel's direct map, where a big one is vmalloc'ed in 4 KiB
 *              pages; it tells what the TLB adds to a cold lookup
 *
 * Only one variant's maps are sized by the loader; the others stay at one entry.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "ct_design.h"

char LICENSE[] SEC("license") = "GPL";

#define CLOCK_MONOTONIC 1
#define GRID_MASK	((1ull << 27) - 1) /* fwd's timer grid: 134 ms */

/* Set by the loader. */
volatile const __u32 n_conns = 1;
/* Per run: what the programs read and count (test runs go one at a time, on one CPU). */
__u32 next_conn;    /* the connection the next insert/delete run works on */
__u64 timeout_ns;   /* expiry of a new connection, from now */
__u64 now_shift_ns; /* added to the clock: a sweep that should find everything expired */
__u64 expired;	    /* connections deleted by timers or sweeps */
__u64 misses;	    /* lookups that found nothing */
__u64 fails;	    /* inserts that failed (a timer that could not be armed: removed) */
__u64 requeued;	    /* FIFO: live keys put back */

struct v_timer {
	struct bpf_timer timer;
	__u64 expires_ns;
	struct ct_design_entry e;
};

struct v_life {
	__u64 expires_ns;
	struct ct_design_entry e;
};

_Static_assert(sizeof(struct v_timer) == 104, "the size of fwd_ct_entry");
_Static_assert(sizeof(struct v_life) == 88, "the same without its timer");

#define HASH_MAP(name, map_type, flags, value_type)                                                \
	struct {                                                                                   \
		__uint(type, map_type);                                                            \
		__uint(max_entries, 1);                                                            \
		__uint(map_flags, flags);                                                          \
		__type(key, struct ct_design_key);                                                 \
		__type(value, value_type);                                                         \
	} name SEC(".maps")

HASH_MAP(timer_np, BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, struct v_timer);
HASH_MAP(timer_pa, BPF_MAP_TYPE_HASH, 0, struct v_timer);
HASH_MAP(life_np, BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, struct v_life);
HASH_MAP(life_pa, BPF_MAP_TYPE_HASH, 0, struct v_life);
HASH_MAP(fifo_pa, BPF_MAP_TYPE_HASH, 0, struct v_life);
HASH_MAP(lru, BPF_MAP_TYPE_LRU_HASH, 0, struct v_life);

struct v_slot {
	__u64 expires_ns;
	__u32 slot;
	__u32 pad;
	struct ct_design_entry e;
};

struct slot {
	struct ct_design_key key; /* proto 0: free */
	__u64 expires_ns;	  /* at or before the connection's expiry */
};

HASH_MAP(slots_np, BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, struct v_slot);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slot_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1);
	__type(value, __u32);
} slot_free SEC(".maps");

__u32 slot_fresh; /* slots below this were handed out once; above, never used */

struct v_flat {
	struct ct_design_key key;
	__u64 expires_ns;
	struct ct_design_entry e;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct v_flat);
} flat SEC(".maps");

/* The flat table's index of @k: its words mixed (murmur3's finaliser after each). */
static __always_inline __u32 flat_mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static __always_inline __u32 flat_index(const struct ct_design_key *k)
{
	__u32 h = flat_mix(k->saddr);

	h = flat_mix(h ^ k->daddr);
	h = flat_mix(h ^ ((__u32)k->sport << 16 | k->dport));
	return h % (2 * (n_conns ? n_conns : 1));
}

struct fifo_item {
	struct ct_design_key key;
	__u64 check_ns; /* not before: the expiry the entry had when queued */
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1);
	__type(value, struct fifo_item);
} fifo_q SEC(".maps");

static __always_inline __u64 now(void)
{
	return bpf_ktime_get_coarse_ns() + now_shift_ns;
}

/* Connection @i's two keys: ORIG from a namespace, REPLY as it comes back on the uplink. */
static __always_inline void keys_of(__u32 i, struct ct_design_key *orig,
				    struct ct_design_key *reply)
{
	__builtin_memset(orig, 0, sizeof(*orig));
	__builtin_memset(reply, 0, sizeof(*reply));
	orig->saddr = bpf_htonl(0x0a000000 | (i >> 8));
	orig->daddr = bpf_htonl(0xc0a80001);
	orig->sport = bpf_htons(1024 + (i & 0xff));
	orig->dport = bpf_htons(53);
	orig->proto = 17;
	reply->saddr = orig->daddr;
	reply->daddr = bpf_htonl(0x0ac80001 + (i >> 16));
	reply->sport = orig->dport;
	reply->dport = bpf_htons(i & 0xffff);
	reply->proto = 17;
}

/* A pseudo-random connection among those inserted: lookups that miss the cache as traffic of
 * many flows does. */
static __always_inline __u32 random_conn(void)
{
	__u32 seq = next_conn++;

	return (seq * 2654435761u) % (n_conns ? n_conns : 1);
}

static int timer_fired(void *map, struct ct_design_key *key, struct v_timer *v)
{
	struct ct_design_key peer;

	__builtin_memcpy(&peer, &v->e.peer, sizeof(peer));
	bpf_map_delete_elem(map, &peer);
	bpf_map_delete_elem(map, key);
	__sync_fetch_and_add(&expired, 1);
	return 0;
}

/* Insert connection next_conn into @map; @timer: also arm its timer, on fwd's grid. */
#define INSERT(map, vtype, timer)                                                                  \
	do {                                                                                       \
		struct ct_design_key o, r;                                                         \
		struct vtype v = {}, *e;                                                           \
		__u32 i = next_conn++;                                                             \
		__u64 t = now();                                                                   \
                                                                                                   \
		keys_of(i, &o, &r);                                                                \
		v.expires_ns = t + timeout_ns;                                                     \
		v.e.peer = o;                                                                      \
		v.e.dir = 1;                                                                       \
		if (bpf_map_update_elem(&map, &r, &v, BPF_NOEXIST))                                \
			goto fail;                                                                 \
		v.e.peer = r;                                                                      \
		v.e.dir = 0;                                                                       \
		if (bpf_map_update_elem(&map, &o, &v, BPF_NOEXIST))                                \
			goto fail;                                                                 \
		if (timer) {                                                                       \
			e = bpf_map_lookup_elem(&map, &o);                                         \
			if (!e)                                                                    \
				goto fail;                                                         \
			if (timer_arm((void *)e, &map, t)) {                                       \
				/* no timer: the connection would never leave */                   \
				bpf_map_delete_elem(&map, &o);                                     \
				bpf_map_delete_elem(&map, &r);                                     \
				goto fail;                                                         \
			}                                                                          \
		}                                                                                  \
		return TC_ACT_OK;                                                                  \
	fail:                                                                                      \
		__sync_fetch_and_add(&fails, 1);                                                   \
		return TC_ACT_OK;                                                                  \
	} while (0)

__s64 timer_err[3]; /* the last error of bpf_timer_init, _set_callback, _start */

static __always_inline long timer_arm(struct v_timer *e, void *map, __u64 t)
{
	__u64 at = (t + timeout_ns + GRID_MASK) & ~GRID_MASK;
	long err;

	err = bpf_timer_init(&e->timer, map, CLOCK_MONOTONIC);
	if (err) {
		timer_err[0] = err;
		return err;
	}
	err = bpf_timer_set_callback(&e->timer, timer_fired);
	if (err) {
		timer_err[1] = err;
		return err;
	}
	err = bpf_timer_start(&e->timer, at, 1 /* BPF_F_TIMER_ABS */);
	if (err)
		timer_err[2] = err;
	return err;
}

/* A lookup as the datapath does one: find the entry, refresh its expiry past a slack. */
#define LOOKUP(map, vtype)                                                                         \
	do {                                                                                       \
		struct ct_design_key o, r;                                                         \
		struct vtype *e;                                                                   \
		__u64 t = now();                                                                   \
                                                                                                   \
		keys_of(random_conn(), &o, &r);                                                    \
		e = bpf_map_lookup_elem(&map, &o);                                                 \
		if (!e) {                                                                          \
			__sync_fetch_and_add(&misses, 1);                                          \
			return TC_ACT_OK;                                                          \
		}                                                                                  \
		if (t + timeout_ns > e->expires_ns + (1ull << 28))                                 \
			e->expires_ns = t + timeout_ns;                                            \
		return TC_ACT_OK;                                                                  \
	} while (0)

/* Delete connection next_conn's two entries (an early drop, a flush). */
#define DELETE(map)                                                                                \
	do {                                                                                       \
		struct ct_design_key o, r;                                                         \
                                                                                                   \
		keys_of(next_conn++, &o, &r);                                                      \
		bpf_map_delete_elem(&map, &r);                                                     \
		if (bpf_map_delete_elem(&map, &o))                                                 \
			__sync_fetch_and_add(&misses, 1);                                          \
		return TC_ACT_OK;                                                                  \
	} while (0)

/* The programs of a variant whose insert, lookup and delete are the generic ones above. */
#define PROG(what, name, ...)                                                                      \
	SEC("tc") int what##_##name(struct __sk_buff *skb)                                         \
	{                                                                                          \
		__VA_ARGS__;                                                                       \
	}
#define GENERIC_VARIANT(name, vtype, timer)                                                        \
	PROG(insert, name, INSERT(name, vtype, timer))                                             \
	PROG(lookup, name, LOOKUP(name, vtype))                                                    \
	PROG(delete, name, DELETE(name))

GENERIC_VARIANT(timer_np, v_timer, 1)
GENERIC_VARIANT(timer_pa, v_timer, 1)
GENERIC_VARIANT(life_np, v_life, 0)
GENERIC_VARIANT(life_pa, v_life, 0)
GENERIC_VARIANT(lru, v_life, 0)
PROG(lookup, fifo_pa, LOOKUP(fifo_pa, v_life))
PROG(delete, fifo_pa, DELETE(fifo_pa))
PROG(lookup, slots_np, LOOKUP(slots_np, v_slot))

/* The FIFO's insert also queues the ORIG key: a full queue would leave an entry that no sweep
 * ever finds, so it fails the insert. */
SEC("tc") int insert_fifo_pa(struct __sk_buff *skb)
{
	struct ct_design_key o, r;
	struct v_life v = {};
	struct fifo_item it;
	__u32 i = next_conn++;
	__u64 t = now();

	keys_of(i, &o, &r);
	v.expires_ns = t + timeout_ns;
	v.e.peer = o;
	v.e.dir = 1;
	if (bpf_map_update_elem(&fifo_pa, &r, &v, BPF_NOEXIST))
		goto fail;
	v.e.peer = r;
	v.e.dir = 0;
	if (bpf_map_update_elem(&fifo_pa, &o, &v, BPF_NOEXIST))
		goto fail;
	it.key = o;
	it.check_ns = v.expires_ns;
	if (bpf_map_push_elem(&fifo_q, &it, 0))
		goto fail;
	return TC_ACT_OK;
fail:
	__sync_fetch_and_add(&fails, 1);
	return TC_ACT_OK;
}

/* Take a free slot: a recycled one, else one never used. */
static __always_inline long slot_take(__u32 *idx)
{
	if (!bpf_map_pop_elem(&slot_free, idx))
		return 0;
	if (slot_fresh >= n_conns)
		return -1;
	*idx = slot_fresh++;
	return 0;
}

SEC("tc") int insert_slots_np(struct __sk_buff *skb)
{
	struct ct_design_key o, r;
	struct v_slot v = {};
	struct slot *sl;
	__u32 i = next_conn++, idx;
	__u64 t = now();

	if (slot_take(&idx))
		goto fail;
	sl = bpf_map_lookup_elem(&slot_arr, &idx);
	if (!sl)
		goto fail;
	keys_of(i, &o, &r);
	v.expires_ns = t + timeout_ns;
	v.slot = idx;
	v.e.peer = o;
	v.e.dir = 1;
	if (bpf_map_update_elem(&slots_np, &r, &v, BPF_NOEXIST))
		goto fail;
	v.e.peer = r;
	v.e.dir = 0;
	if (bpf_map_update_elem(&slots_np, &o, &v, BPF_NOEXIST))
		goto fail;
	sl->key = o;
	sl->expires_ns = v.expires_ns;
	return TC_ACT_OK;
fail:
	__sync_fetch_and_add(&fails, 1);
	return TC_ACT_OK;
}

/* Both entries written into their places (a collision overwrites: a floor, not a table). */
SEC("tc") int insert_flat(struct __sk_buff *skb)
{
	struct ct_design_key o, r;
	struct v_flat *v;
	__u32 i = next_conn++, idx;

	keys_of(i, &o, &r);
	idx = flat_index(&o);
	v = bpf_map_lookup_elem(&flat, &idx);
	if (!v)
		goto fail;
	v->key = o;
	v->expires_ns = now() + timeout_ns;
	v->e.peer = r;
	idx = flat_index(&r);
	v = bpf_map_lookup_elem(&flat, &idx);
	if (!v)
		goto fail;
	v->key = r;
	v->e.peer = o;
	return TC_ACT_OK;
fail:
	__sync_fetch_and_add(&fails, 1);
	return TC_ACT_OK;
}

SEC("tc") int lookup_flat(struct __sk_buff *skb)
{
	struct ct_design_key o, r;
	struct v_flat *e;
	__u64 t = now();
	__u32 idx;

	keys_of(random_conn(), &o, &r);
	idx = flat_index(&o);
	e = bpf_map_lookup_elem(&flat, &idx);
	if (!e || e->key.saddr != o.saddr || e->key.sport != o.sport || e->key.daddr != o.daddr) {
		__sync_fetch_and_add(&misses, 1);
		return TC_ACT_OK;
	}
	if (t + timeout_ns > e->expires_ns + (1ull << 28))
		e->expires_ns = t + timeout_ns;
	return TC_ACT_OK;
}

SEC("tc") int delete_flat(struct __sk_buff *skb)
{
	struct ct_design_key o, r;
	struct v_flat *v;
	__u32 idx;

	keys_of(next_conn++, &o, &r);
	idx = flat_index(&o);
	v = bpf_map_lookup_elem(&flat, &idx);
	if (v)
		v->key.proto = 0;
	idx = flat_index(&r);
	v = bpf_map_lookup_elem(&flat, &idx);
	if (v)
		v->key.proto = 0;
	return TC_ACT_OK;
}

/* A slot's connection deleted by someone else than the sweep hands its slot back. */
SEC("tc") int delete_slots_np(struct __sk_buff *skb)
{
	struct ct_design_key o, r;
	struct v_slot *e;
	struct slot *sl;
	__u32 idx;

	keys_of(next_conn++, &o, &r);
	e = bpf_map_lookup_elem(&slots_np, &o);
	if (!e) {
		__sync_fetch_and_add(&misses, 1);
		return TC_ACT_OK;
	}
	idx = e->slot;
	bpf_map_delete_elem(&slots_np, &r);
	if (bpf_map_delete_elem(&slots_np, &o))
		return TC_ACT_OK;
	sl = bpf_map_lookup_elem(&slot_arr, &idx);
	if (sl) {
		sl->key.proto = 0;
		bpf_map_push_elem(&slot_free, &idx, 0);
	}
	return TC_ACT_OK;
}

struct sweep_ctx {
	__u64 now;
};

static long sweep_one(void *map, struct ct_design_key *key, struct v_life *v, struct sweep_ctx *c)
{
	struct ct_design_key peer;

	if (v->e.dir != 0 || v->expires_ns > c->now)
		return 0;
	__builtin_memcpy(&peer, &v->e.peer, sizeof(peer));
	bpf_map_delete_elem(map, &peer);
	bpf_map_delete_elem(map, key);
	__sync_fetch_and_add(&expired, 1);
	return 0;
}

/* One pass of a table-walking sweep: what it costs with nothing expired, or everything. */
SEC("tc") int sweep_life_np(struct __sk_buff *skb)
{
	struct sweep_ctx c = { .now = now() };

	bpf_for_each_map_elem(&life_np, sweep_one, &c, 0);
	return TC_ACT_OK;
}

SEC("tc") int sweep_life_pa(struct __sk_buff *skb)
{
	struct sweep_ctx c = { .now = now() };

	bpf_for_each_map_elem(&life_pa, sweep_one, &c, 0);
	return TC_ACT_OK;
}

static long sweep_slot(__u32 i, struct sweep_ctx *c)
{
	struct ct_design_key key, peer;
	struct v_slot *e;
	struct slot *sl;

	sl = bpf_map_lookup_elem(&slot_arr, &i);
	if (!sl || !sl->key.proto || sl->expires_ns > c->now)
		return 0;
	__builtin_memcpy(&key, &sl->key, sizeof(key));
	e = bpf_map_lookup_elem(&slots_np, &key);
	if (!e || e->slot != i)
		return 0;
	if (e->expires_ns > c->now) { /* refreshed: a new lower bound */
		sl->expires_ns = e->expires_ns;
		return 0;
	}
	__builtin_memcpy(&peer, &e->e.peer, sizeof(peer));
	bpf_map_delete_elem(&slots_np, &peer);
	if (!bpf_map_delete_elem(&slots_np, &key)) {
		sl->key.proto = 0;
		bpf_map_push_elem(&slot_free, &i, 0);
		__sync_fetch_and_add(&expired, 1);
	}
	return 0;
}

/* One pass of the slot sweep over the whole array. */
SEC("tc") int sweep_slots_np(struct __sk_buff *skb)
{
	struct sweep_ctx c = { .now = now() };

	bpf_loop(n_conns, sweep_slot, &c, 0);
	return TC_ACT_OK;
}

/* One step of the FIFO's sweep: look at the oldest key; expired: delete the connection;
 * refreshed meanwhile: queue it again for its new expiry; not due yet: put it back and stop
 * (the queue has no peek that keeps the item). */
SEC("tc") int sweep_fifo_pa(struct __sk_buff *skb)
{
	struct fifo_item it;
	struct ct_design_key peer;
	struct v_life *e;
	__u64 t = now();

	if (bpf_map_pop_elem(&fifo_q, &it))
		return TC_ACT_OK;
	e = bpf_map_lookup_elem(&fifo_pa, &it.key);
	if (!e)
		return TC_ACT_OK;
	if (e->expires_ns > t) {
		it.check_ns = e->expires_ns;
		bpf_map_push_elem(&fifo_q, &it, 0);
		__sync_fetch_and_add(&requeued, 1);
		return TC_ACT_OK;
	}
	__builtin_memcpy(&peer, &e->e.peer, sizeof(peer));
	bpf_map_delete_elem(&fifo_pa, &peer);
	bpf_map_delete_elem(&fifo_pa, &it.key);
	__sync_fetch_and_add(&expired, 1);
	return TC_ACT_OK;
}

#define CELL_FREE 0    /* key.proto of a cell never used since its page was clean */
#define CELL_GONE 0xff /* key.proto of a deleted cell: lookups probe past it, inserts reuse it */

struct cell {
	struct ct_design_key key;
	struct v_life v;
};

struct page {
	struct bpf_spin_lock lock;
	__u32 pad;
	struct cell cell[PAGE_CELLS];
};
_Static_assert(sizeof(struct page) <= 4096, "a page");
_Static_assert(sizeof(struct page) == sizeof(struct ct_design_page), "the driver's page");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct page);
} paged SEC(".maps");

/*
 * paged_km: the same pages, 7 to an inner ARRAY of an ARRAY_OF_MAPS. An array of at most
 * 32 KiB is kmalloc'ed, in the kernel's direct map (huge pages), where one of fwd's size is
 * vmalloc'ed page by page: the question is what the TLB miss of every cold lookup costs.
 */
/* clang-format off */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, PAGES_PER_GROUP);
		__type(key, __u32);
		__type(value, struct page);
	});
} paged_km SEC(".maps");
/* clang-format on */

volatile const __u32 n_pages = 1;
volatile const bool page_groups = false; /* paged_km */
volatile const __u64 page_seed = 0; /* random per table: its keys' placement is nobody's guess */

static __always_inline __u64 paged_hash(const struct ct_design_key *k)
{
	__u64 a, b, h;

	__builtin_memcpy(&a, k, 8);
	__builtin_memcpy(&b, (const char *)k + 8, 8);
	h = (a ^ page_seed) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h = (h + b) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* The page of @k, and its home cell there. */
static __always_inline struct page *paged_page(const struct ct_design_key *k, __u32 *home)
{
	__u64 h = paged_hash(k);
	__u32 idx = ((h >> 32) * n_pages) >> 32;

	*home = ((h & 0xffffffffull) * PAGE_CELLS) >> 32;
	if (page_groups) {
		__u32 g = idx / PAGES_PER_GROUP, sub = idx % PAGES_PER_GROUP;
		void *inner = bpf_map_lookup_elem(&paged_km, &g);

		return inner ? bpf_map_lookup_elem(inner, &sub) : NULL;
	}
	return bpf_map_lookup_elem(&paged, &idx);
}

static __always_inline bool paged_key_eq(const struct ct_design_key *a,
					 const struct ct_design_key *b)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, (const char *)a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, (const char *)b + 8, 8);
	return a0 == b0 && a1 == b1;
}

/* Cell @i after @from (both below PAGE_CELLS), around the page. */
static __always_inline __u64 paged_cell(__u64 from, __u64 i)
{
	__u64 c = from + i;

	if (c >= PAGE_CELLS)
		c -= PAGE_CELLS;
	/* Never true; the verifier cannot know, and the compiler must not drop it. */
	asm volatile("" : "+r"(c));
	if (c >= PAGE_CELLS)
		c = 0;
	return c;
}

/* The cell index of @k in @pg, or -1. */
static __always_inline int paged_find(struct page *pg, __u64 home, const struct ct_design_key *k)
{
	for (__u64 i = 0; i < PAGE_CELLS; i++) {
		__u64 c = paged_cell(home, i);
		__u8 p;

		if (c >= PAGE_CELLS)
			return -1;
		p = *(volatile __u8 *)&pg->cell[c].key.proto;
		if (p == CELL_FREE)
			return -1;
		if (p != CELL_GONE && paged_key_eq(&pg->cell[c].key, k))
			return c;
	}
	return -1;
}

/* Insert @k with @v unless there: 0, 1 (there), -1 (its page full). */
static __always_inline int paged_insert(const struct ct_design_key *k, const struct v_life *v)
{
	struct page *pg;
	__u32 home;
	int at = -1, ret = 0;

	pg = paged_page(k, &home);
	if (!pg)
		return -1;
	bpf_spin_lock(&pg->lock);
	for (__u64 i = 0; i < PAGE_CELLS; i++) {
		__u64 c = paged_cell(home, i);
		__u8 p;

		if (c >= PAGE_CELLS)
			break;
		p = pg->cell[c].key.proto;
		if (p == CELL_FREE || p == CELL_GONE) {
			if (at < 0)
				at = c;
			if (p == CELL_FREE)
				break;
			continue;
		}
		if (paged_key_eq(&pg->cell[c].key, k)) {
			ret = 1;
			break;
		}
	}
	if (!ret && at >= 0 && paged_cell(at, 0) < PAGE_CELLS) {
		struct cell *cl = &pg->cell[paged_cell(at, 0)];

		cl->v = *v;
		cl->key.saddr = k->saddr;
		cl->key.daddr = k->daddr;
		cl->key.sport = k->sport;
		cl->key.dport = k->dport;
		asm volatile("" ::: "memory"); /* the key's proto last: it makes the cell live */
		cl->key.proto = k->proto;
	} else if (!ret) {
		ret = -1;
	}
	bpf_spin_unlock(&pg->lock);
	return ret;
}

/* Delete @k: 0, or -1 when not there. A deleted cell followed by a free one is free too, and
 * so are the deleted ones before it. */
static __always_inline int paged_delete(const struct ct_design_key *k)
{
	struct page *pg;
	__u32 home;
	int at;

	pg = paged_page(k, &home);
	if (!pg)
		return -1;
	bpf_spin_lock(&pg->lock);
	at = paged_find(pg, home, k);
	if (at >= 0) {
		__u64 a = paged_cell(at, 0), next = paged_cell(at, 1);
		__u8 mark = CELL_GONE;

		if (next < PAGE_CELLS && pg->cell[next].key.proto == CELL_FREE)
			mark = CELL_FREE;
		if (a < PAGE_CELLS)
			pg->cell[a].key.proto = mark;
		for (__u64 i = 1; mark == CELL_FREE && i < PAGE_CELLS; i++) {
			__u64 c = paged_cell(a, PAGE_CELLS - i);

			if (c >= PAGE_CELLS || pg->cell[c].key.proto != CELL_GONE)
				break;
			pg->cell[c].key.proto = CELL_FREE;
		}
	}
	bpf_spin_unlock(&pg->lock);
	return at >= 0 ? 0 : -1;
}

static __always_inline int paged_insert_conn(void)
{
	struct ct_design_key o, r;
	struct v_life v = {};

	keys_of(next_conn++, &o, &r);
	v.expires_ns = now() + timeout_ns;
	v.e.peer = o;
	v.e.dir = 1;
	if (paged_insert(&r, &v))
		goto fail;
	v.e.peer = r;
	v.e.dir = 0;
	if (paged_insert(&o, &v)) {
		paged_delete(&r);
		goto fail;
	}
	return TC_ACT_OK;
fail:
	__sync_fetch_and_add(&fails, 1);
	return TC_ACT_OK;
}

static __always_inline int paged_lookup_conn(void)
{
	struct ct_design_key o, r;
	struct page *pg;
	struct cell *cl;
	__u64 t = now();
	__u32 home;
	int at;

	keys_of(random_conn(), &o, &r);
	pg = paged_page(&o, &home);
	at = pg ? paged_find(pg, home, &o) : -1;
	if (at < 0 || !pg || paged_cell(at, 0) >= PAGE_CELLS) {
		__sync_fetch_and_add(&misses, 1);
		return TC_ACT_OK;
	}
	cl = &pg->cell[paged_cell(at, 0)];
	if (t + timeout_ns > cl->v.expires_ns + (1ull << 28))
		cl->v.expires_ns = t + timeout_ns;
	return TC_ACT_OK;
}

static __always_inline int paged_delete_conn(void)
{
	struct ct_design_key o, r;

	keys_of(next_conn++, &o, &r);
	paged_delete(&r);
	if (paged_delete(&o))
		__sync_fetch_and_add(&misses, 1);
	return TC_ACT_OK;
}

/* The same programs for both variants (the driver loads those of one: their suffix). */
SEC("tc") int insert_paged(struct __sk_buff *skb)
{
	return paged_insert_conn();
}
SEC("tc") int lookup_paged(struct __sk_buff *skb)
{
	return paged_lookup_conn();
}
SEC("tc") int delete_paged(struct __sk_buff *skb)
{
	return paged_delete_conn();
}
SEC("tc") int insert_paged_km(struct __sk_buff *skb)
{
	return paged_insert_conn();
}
SEC("tc") int lookup_paged_km(struct __sk_buff *skb)
{
	return paged_lookup_conn();
}
SEC("tc") int delete_paged_km(struct __sk_buff *skb)
{
	return paged_delete_conn();
}
