/* fetch_os.c: what a run asks of the process: descriptors and stacks. */

#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS, MAP_NORESERVE, MAP_STACK */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fetch_impl.h"

/*
 * Descriptors a worker may cost at once: the connection of its transfer,
 * a resolver's socket pair, and either its share of the transport's lanes
 * (for every 64 workers, fetch.c's IDLE idle connections and a multi
 * handle's wakeup socket pair) or, in a larger pool, its own transport's
 * wakeup socket pair and idle connection (OWN_IDLE); and the ones kept
 * back for the rest of the process.
 */
#define FDS_PER_WORKER	6
#define FDS_RESERVED	32

/* Workers never hold more than this many threads, whatever the limits. */
#define WORKERS_MAX	16384

/* How many workers the open-file limit leaves room for. */
static size_t
fd_room(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return WORKERS_MAX;
	if (rl.rlim_cur <= FDS_RESERVED + FDS_PER_WORKER)
		return 1;
	return (size_t)(rl.rlim_cur - FDS_RESERVED) / FDS_PER_WORKER;
}

/* The most workers a run starts when asked for workers (0: default). */
size_t
fetch_os_workers_max(size_t workers)
{
	size_t want = workers, room = fd_room();

	if (want == 0 || want > room)
		want = room;
	if (want > WORKERS_MAX)
		want = WORKERS_MAX;
	return want == 0 ? 1 : want;
}

void
fetch_prepare(size_t workers)
{
	struct rlimit rl;
	size_t top;
	int fd, high;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/*
	 * The kernel never shrinks a descriptor table: duplicating a
	 * descriptor to the highest number the workers may reach grows it
	 * once, now, for good.  A new table has room for 64 already.
	 */
	top = FDS_RESERVED + fetch_os_workers_max(workers) * FDS_PER_WORKER;
	if (top <= 64 || top > INT_MAX ||
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	high = fcntl(fd, F_DUPFD_CLOEXEC, (int)top - 1);
	if (high >= 0)
		close(high);
	close(fd);
}

/*
 * Reserves the stacks of a run's workers in one mapping, a slot each: a
 * guard page, then WORKER_STACK bytes.  A thread on a stack of its own
 * (pthread_attr_setstack) spares pthread_create() a mapping of its own,
 * and its exit the madvise() that returns the pages of a stack the C
 * library keeps.  Each of those takes the process's memory-map lock, which
 * the page faults of running workers need too: a hundred starting workers
 * queued on it.  Pages are only used as the stacks grow.  Leaves
 * run->stacks NULL when the mapping fails, and the workers get stacks
 * from the C library.
 */
void
fetch_os_stacks_new(struct fetch_run *run, size_t want)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (page <= 0 || WORKER_STACK % page != 0)
		return;
	run->stack_slot = (size_t)page + WORKER_STACK;
	if (want > SIZE_MAX / run->stack_slot)
		return;
	p = mmap(NULL, want * run->stack_slot, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return;
	/*
	 * Until the next slot's guard page is made, a stack is part of one
	 * large region, which could otherwise be given huge pages by the
	 * kernel (before Linux 6.7, MAP_STACK alone does not prevent it) and
	 * kept resident in full.
	 */
	(void)madvise(p, want * run->stack_slot, MADV_NOHUGEPAGE);
	run->stacks = p;
	run->stacks_len = want * run->stack_slot;
}

/*
 * Sets attr to worker i's stack, making its guard page inaccessible first.
 * Returns 0, or an errno value.
 */
int
fetch_os_stack_attr(struct fetch_run *run, size_t i,
    pthread_attr_t *attr)
{
	char *slot = run->stacks + i * run->stack_slot;
	size_t guard = run->stack_slot - WORKER_STACK;

	if (mprotect(slot, guard, PROT_NONE) != 0)
		return errno;
	return pthread_attr_setstack(attr, slot + guard, WORKER_STACK);
}
