package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// FlagUninstalled is the shop flag set by app/uninstalled: the fingerprint of the access
// token the shop had. Work for the shop stops while the configured token is that one; a
// shop configured again (a new token after reinstalling) works again.
const FlagUninstalled = "uninstalled"

func tokenFingerprint(token string) string {
	sum := sha256.Sum256([]byte("dropsync-shop-token:" + token))
	return hex.EncodeToString(sum[:8])
}

// shopGone reports whether the app was uninstalled from the shop with its current token; no
// storefront call may be made for it then.
func (p *Pipeline) shopGone(ctx context.Context, shop string) (bool, error) {
	cfg, ok := p.shop(shop)
	if !ok {
		return true, nil
	}
	v, err := p.store.ShopFlag(ctx, shop, FlagUninstalled)
	if err != nil {
		return false, err
	}
	if v != "" && v == tokenFingerprint(cfg.AccessToken) {
		p.logger(ctx).Debug().Msg("app uninstalled from the shop; work skipped")
		return true, nil
	}
	return false, nil
}

// handleShopEvent handles storefront events about the shop rather than one order.
func (p *Pipeline) handleShopEvent(ctx context.Context, t *asynq.Task) error {
	var pl IngestPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode shop event: %v: %w", err, asynq.SkipRetry)
	}
	ev := pl.Event
	cfg, ok := p.shop(ev.Shop)
	if !ok {
		return nil
	}
	switch ev.Topic {
	case dropsync.TopicAppUninstalled:
		if err := p.store.SetShopFlag(ctx, ev.Shop, FlagUninstalled, tokenFingerprint(cfg.AccessToken)); err != nil {
			return err
		}
		p.logger(ctx).Warn().Msg("app uninstalled: all work for the shop stops until it is configured again")
		return nil
	}
	return p.handleCompliance(ctx, ev)
}
