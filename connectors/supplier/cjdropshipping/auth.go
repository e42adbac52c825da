package cjdropshipping

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// wireToken is the data of getAccessToken and refreshAccessToken.
type wireToken struct {
	OpenID                 flexString `json:"openId"`
	AccessToken            string     `json:"accessToken"`
	AccessTokenExpiryDate  string     `json:"accessTokenExpiryDate"`
	RefreshToken           string     `json:"refreshToken"`
	RefreshTokenExpiryDate string     `json:"refreshTokenExpiryDate"`
	CreateDate             string     `json:"createDate"`
}

// accessToken returns a token to call CJ with: the stored one while it is good, else a
// renewed one. rejected is a token CJ has just refused, which is never good. One process at
// a time renews, under the store's lock; the others wait for its result.
func (s *Supplier) accessToken(ctx context.Context, rejected string) (Token, error) {
	tok, err := s.store.Load(ctx)
	if err != nil {
		return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "load token")
	}
	if s.fresh(tok, rejected) {
		s.rememberOpenID(tok.OpenID)
		return tok, nil
	}
	unlock, ok, err := s.store.Lock(ctx, "token", 3*s.cfg.Timeout+2*maxPaceWait)
	if err != nil {
		return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "lock token")
	}
	if !ok {
		return s.awaitRenewal(ctx, tok, rejected)
	}
	defer unlock()
	// Another process may have renewed it while this one waited for the lock.
	if tok, err = s.store.Load(ctx); err != nil {
		return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "load token")
	}
	if s.fresh(tok, rejected) {
		s.rememberOpenID(tok.OpenID)
		return tok, nil
	}
	renewed, err := s.renew(ctx, tok)
	if err != nil {
		// A token near its expiry still works until then: use it rather than fail.
		if tok.AccessToken != "" && tok.AccessToken != rejected && s.now().Before(tok.AccessExpiry) {
			s.log.Warn().Str("error", dropsync.ErrorMessage(err)).Msg("cj token renewal failed; the current token is used until it expires")
			return tok, nil
		}
		return Token{}, err
	}
	if err := s.store.Save(ctx, renewed); err != nil {
		return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "save token")
	}
	s.rememberOpenID(renewed.OpenID)
	return renewed, nil
}

// fresh reports whether the token can be used without renewing it.
func (s *Supplier) fresh(tok Token, rejected string) bool {
	return tok.AccessToken != "" && tok.AccessToken != rejected && s.now().Before(tok.AccessExpiry.Add(-refreshMargin))
}

// awaitRenewal waits for the process holding the lock to store a renewed token.
func (s *Supplier) awaitRenewal(ctx context.Context, cur Token, rejected string) (Token, error) {
	deadline := time.Now().Add(s.lockWait)
	for {
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, ctx.Err(), "waiting for another process to renew the token")
		case <-t.C:
		}
		tok, err := s.store.Load(ctx)
		if err != nil {
			return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "load token")
		}
		if s.fresh(tok, rejected) || tok.AccessToken != cur.AccessToken && tok.AccessToken != "" && tok.AccessToken != rejected {
			s.rememberOpenID(tok.OpenID)
			return tok, nil
		}
		if time.Now().After(deadline) {
			// The other process is slow or gone; its lock expires by itself.
			if cur.AccessToken != "" && cur.AccessToken != rejected && s.now().Before(cur.AccessExpiry) {
				return cur, nil
			}
			return Token{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "another process is renewing the token")
		}
	}
}

// renew gets a new token: with the refresh token while it lives, else with the API key,
// which CJ allows once every five minutes.
func (s *Supplier) renew(ctx context.Context, tok Token) (Token, error) {
	now := s.now()
	if tok.RefreshToken != "" && now.Before(tok.RefreshExpiry) {
		body, _ := supplierapi.EncodeJSON(map[string]string{"refreshToken": tok.RefreshToken})
		var w wireToken
		err := s.do(ctx, call{op: "refresh token", method: http.MethodPost, path: "authentication/refreshAccessToken", body: body, noAuth: true}, &w)
		switch {
		case err == nil && w.AccessToken != "":
			return s.token(w, tok), nil
		case err == nil:
			err = dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: refresh token: reply has no token", s.cfg.ID)
		}
		if code := cjCode(err); code != codeInvalidRefresh && code != codeInvalidToken {
			return Token{}, err
		}
		// The refresh token is refused: the API key gets a new pair.
	}
	if next := tok.RequestedAt.Add(tokenRequestGap); now.Before(next) {
		if tok.KeyRefused {
			return Token{}, dropsync.Errorf(dropsync.EUNAUTHORIZED,
				"supplier %s: request token: CJ refused the api_key and email less than five minutes ago", s.cfg.ID)
		}
		return Token{}, &dropsync.Error{Code: dropsync.ERATELIMITED, RetryAfter: next.Sub(now),
			Message: "supplier " + s.cfg.ID + ": request token: CJ allows one token request every five minutes"}
	}
	// Recorded before asking, so that a crash or a second process cannot ask again too soon.
	tok.RequestedAt, tok.KeyRefused = now, false
	if err := s.store.Save(ctx, tok); err != nil {
		return Token{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "save token")
	}
	creds := map[string]string{"apiKey": s.cfg.APIKey}
	if !strings.Contains(s.cfg.APIKey, "@api@") && s.cfg.Email != "" {
		// A key from before CJ's "CJUserNum@api@…" keys goes with the account email.
		creds = map[string]string{"email": s.cfg.Email, "password": s.cfg.APIKey}
	}
	body, _ := supplierapi.EncodeJSON(creds)
	var w wireToken
	err := s.do(ctx, call{op: "request token", method: http.MethodPost, path: "authentication/getAccessToken", body: body, noAuth: true}, &w)
	if err != nil {
		if dropsync.ErrorCode(err) == dropsync.EUNAUTHORIZED {
			tok.KeyRefused = true
			if serr := s.store.Save(ctx, tok); serr != nil {
				s.log.Warn().Err(serr).Msg("record refused cj credentials")
			}
		}
		return Token{}, err
	}
	if w.AccessToken == "" {
		return Token{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: request token: reply has no token", s.cfg.ID)
	}
	return s.token(w, tok), nil
}

// token builds the stored token from CJ's reply, keeping what the reply leaves out.
func (s *Supplier) token(w wireToken, prev Token) Token {
	tok := Token{
		OpenID:        string(w.OpenID),
		AccessToken:   w.AccessToken,
		AccessExpiry:  parseTime(w.AccessTokenExpiryDate),
		RefreshToken:  w.RefreshToken,
		RefreshExpiry: parseTime(w.RefreshTokenExpiryDate),
		RequestedAt:   prev.RequestedAt,
	}
	if tok.OpenID == "" {
		tok.OpenID = prev.OpenID
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken, tok.RefreshExpiry = prev.RefreshToken, prev.RefreshExpiry
	}
	if tok.AccessExpiry.IsZero() {
		// CJ documents 15 days; an undated token is renewed well before that.
		tok.AccessExpiry = s.now().Add(7 * 24 * time.Hour).UTC()
	}
	return tok
}

func (s *Supplier) rememberOpenID(id string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openID = id
}

// knownOpenID returns the account's openId, reading the store when this process has not
// seen it yet. ParseEvent has no context of its own, so the read is bounded here.
func (s *Supplier) knownOpenID() string {
	s.mu.Lock()
	id := s.openID
	s.mu.Unlock()
	if id != "" {
		return id
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tok, err := s.store.Load(ctx)
	if err != nil {
		return ""
	}
	s.rememberOpenID(tok.OpenID)
	return tok.OpenID
}
