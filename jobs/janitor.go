package jobs

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/hibiken/asynq"
)

// Janitor removes queued and retained tasks that carry an order's personal data (its
// ingest tasks hold the storefront order), through asynq's Inspector — never by deleting
// asynq's keys by hand, which breaks its queue statistics.
type Janitor struct {
	insp *asynq.Inspector
}

// NewJanitor returns a janitor over the inspector.
func NewJanitor(insp *asynq.Inspector) *Janitor { return &Janitor{insp: insp} }

// personalTypes are the task types whose payloads hold customer data.
var personalTypes = []string{TypeOrderIngest}

// PurgeOrderTasks deletes the shop's ingest tasks for the orders (every order of the shop
// when ids is nil) in every state but active, and returns how many are still running (the
// caller retries until none is).
func (j *Janitor) PurgeOrderTasks(ctx context.Context, shop string, ids []int64) (busy int, err error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[strconv.FormatInt(id, 10)] = true
	}
	match := func(t *asynq.TaskInfo) bool {
		if !slices.Contains(personalTypes, t.Type) || t.Headers[HeaderShop] != shop {
			return false
		}
		return ids == nil || want[t.Headers[HeaderOrderID]]
	}
	for q := range Queues {
		listers := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
			j.insp.ListPendingTasks, j.insp.ListScheduledTasks, j.insp.ListRetryTasks,
			j.insp.ListArchivedTasks, j.insp.ListCompletedTasks,
		}
		for _, list := range listers {
			if err := ctx.Err(); err != nil {
				return busy, err
			}
			if err := j.purge(q, list, match); err != nil {
				return busy, err
			}
		}
		active, err := j.insp.ListActiveTasks(q, asynq.PageSize(1000))
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			return busy, err
		}
		for _, t := range active {
			if match(t) {
				busy++
			}
		}
	}
	return busy, nil
}

func (j *Janitor) purge(q string, list func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error), match func(*asynq.TaskInfo) bool) error {
	const size = 500
	for page := 1; ; page++ {
		tasks, err := list(q, asynq.PageSize(size), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		deleted := 0
		for _, t := range tasks {
			if !match(t) {
				continue
			}
			if err := j.insp.DeleteTask(q, t.ID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return err
			}
			deleted++
		}
		if len(tasks) < size {
			return nil
		}
		// Deleting shifted later tasks onto this page: read it again.
		if deleted > 0 {
			page--
		}
	}
}
