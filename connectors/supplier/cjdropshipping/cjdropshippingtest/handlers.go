package cjdropshippingtest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
)

// CJ error codes the fake answers with (ps-code.html).
const (
	codeOK              = 200
	codeSystemBusy      = 1600000
	codeInvalidToken    = 1600001
	codeNoToken         = 1600002
	codeInvalidRefresh  = 1600003
	codeWrongKey        = 1600005
	codeNoInterface     = 1600101
	codeTooMany         = 1600200
	codeParam           = 1600300
	codeVariantNotFound = 1602000
	codeProductNotFound = 1602001
	codeOrderDeleteFail = 1603002
	codeOrderExists     = 1603003
	codeOrderPayFail    = 1603101
	codeInventoryFail   = 1603102
	codeBalance         = 1604000
	codeBalanceBlocked  = 1604001
	codeLogisticUnknown = 1605000
	codeLogisticInvalid = 1605001
	codeParamEmpty      = 16900403
)

// number is a JSON number written from a decimal string, as CJ writes amounts and ids.
type number string

func (n number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return []byte(n), nil
}

func (n *number) UnmarshalJSON(b []byte) error {
	*n = number(strings.Trim(string(b), `"`))
	return nil
}

type envelope struct {
	Code      int    `json:"code"`
	Result    bool   `json:"result"`
	Message   string `json:"message"`
	Data      any    `json:"data"`
	RequestID string `json:"requestId"`
}

type reply struct {
	status int
	header http.Header
	env    envelope
}

func ok(data any) reply {
	return reply{status: http.StatusOK, env: envelope{Code: codeOK, Result: true, Message: "Success", Data: data}}
}

// fail is CJ's error envelope, which CJ sends with HTTP 200.
func fail(code int, format string, args ...any) reply {
	return reply{status: http.StatusOK, env: envelope{Code: code, Message: fmt.Sprintf(format, args...)}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	rep := s.route(r, body)
	rep.env.RequestID = fmt.Sprintf("req-%d", time.Now().UnixNano())
	supplierfake.WriteJSON(w, rep.status, rep.header, rep.env, []byte(`{"code":1600000,"result":false,"message":"encode"}`))
}

func (s *Server) route(r *http.Request, body []byte) reply {
	path, found := strings.CutPrefix(r.URL.Path, Prefix)
	if path == PlacePath && r.Method == http.MethodPost {
		s.srv.CountPlace()
	}
	if rep, limited := s.pace(); limited {
		return rep
	}
	if !found {
		return reply{status: http.StatusNotFound, env: envelope{Code: codeNoInterface, Message: "Interface not found"}}
	}
	q := r.URL.Query()
	switch {
	case path == "/authentication/getAccessToken" && r.Method == http.MethodPost:
		return s.getAccessToken(body)
	case path == "/authentication/refreshAccessToken" && r.Method == http.MethodPost:
		return s.refreshAccessToken(body)
	}
	if rep, authed := s.authorized(r); !authed {
		return rep
	}
	switch {
	case path == PlacePath && r.Method == http.MethodPost:
		return s.place(body)
	case path == "/shopping/order/getOrderDetail" && r.Method == http.MethodGet:
		return s.detail(q.Get("orderId"))
	case path == "/shopping/order/deleteOrder" && r.Method == http.MethodDelete:
		return s.delete(q.Get("orderId"))
	case path == "/product/variant/queryByVid" && r.Method == http.MethodGet:
		return s.variantByVid(q.Get("vid"))
	case path == "/product/stock/queryByVid" && r.Method == http.MethodGet:
		return s.stockByVid(q.Get("vid"))
	case path == "/product/query" && r.Method == http.MethodGet:
		return s.product(q.Get("variantSku"))
	}
	return reply{status: http.StatusNotFound, env: envelope{Code: codeNoInterface, Message: "Interface not found"}}
}

// pace refuses a call that comes sooner than MinInterval after the last one.
func (s *Server) pace() (reply, bool) {
	if s.opts.MinInterval <= 0 {
		return reply{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if !s.lastCall.IsZero() && now.Sub(s.lastCall) < s.opts.MinInterval {
		s.limited++
		return fail(codeTooMany, "Too much request, QPS limit is 1"), true
	}
	s.lastCall = now
	return reply{}, false
}

func (s *Server) authorized(r *http.Request) (reply, bool) {
	tok := r.Header.Get("CJ-Access-Token")
	if tok == "" {
		return fail(codeNoToken, "CJ-Access-Token not found"), false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.access[tok]
	if !known || !s.now().Before(exp) {
		return fail(codeInvalidToken, "Invalid API key or access token"), false
	}
	return reply{}, true
}

type tokenData struct {
	OpenID                 number `json:"openId,omitempty"`
	AccessToken            string `json:"accessToken"`
	AccessTokenExpiryDate  string `json:"accessTokenExpiryDate"`
	RefreshToken           string `json:"refreshToken"`
	RefreshTokenExpiryDate string `json:"refreshTokenExpiryDate"`
	CreateDate             string `json:"createDate"`
}

// cjTime writes a time as CJ does in token replies: RFC 3339 in China time.
func cjTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
}

func (s *Server) getAccessToken(body []byte) reply {
	var req struct {
		APIKey   string `json:"apiKey"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(16900205, "The request parameter is not in a correct JSON format")
	}
	key := req.APIKey
	if key == "" {
		key = req.Password
		if s.opts.Email != "" && !strings.EqualFold(req.Email, s.opts.Email) {
			return fail(codeWrongKey, "Email or password wrong, please check and try again")
		}
	}
	if s.opts.APIKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey)) != 1 {
		return fail(codeWrongKey, "APIkey is wrong, please check and try again")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !s.lastAsk.IsZero() && now.Sub(s.lastAsk) < s.opts.TokenGap {
		return fail(codeTooMany, "Too much request, getAccessToken can be called once every 5 minutes")
	}
	s.lastAsk = now
	s.asked++
	return ok(s.issueLocked(now, ""))
}

// issueLocked issues an access token, and a refresh token unless one is kept.
func (s *Server) issueLocked(now time.Time, keepRefresh string) tokenData {
	s.tokenSeq++
	at := fmt.Sprintf("c50f01a5d910400f%016x", s.tokenSeq)
	s.access[at] = now.Add(s.opts.TokenTTL)
	rt := keepRefresh
	if rt == "" {
		rt = fmt.Sprintf("16bb512baf74491b%016x", s.tokenSeq)
		s.refresh[rt] = now.Add(s.opts.RefreshTTL)
	}
	return tokenData{OpenID: number(formatInt(s.opts.OpenID)), AccessToken: at, AccessTokenExpiryDate: cjTime(now.Add(s.opts.TokenTTL)),
		RefreshToken: rt, RefreshTokenExpiryDate: cjTime(s.refresh[rt]), CreateDate: cjTime(now)}
}

func (s *Server) refreshAccessToken(body []byte) reply {
	var req struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(16900205, "The request parameter is not in a correct JSON format")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	exp, known := s.refresh[req.RefreshToken]
	if s.refuseRef || !known || !now.Before(exp) {
		return fail(codeInvalidRefresh, "Refresh token is failure")
	}
	s.refreshed++
	d := s.issueLocked(now, req.RefreshToken)
	d.OpenID = "" // the refresh reply does not repeat the openId
	return ok(d)
}

func (s *Server) place(body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, failed := s.srv.TakeFailure(); failed {
		if status == http.StatusTooManyRequests {
			rep := fail(codeTooMany, "Too much request")
			rep.header = http.Header{"Retry-After": {strconv.Itoa(RetryAfterSeconds)}}
			return rep
		}
		return reply{status: status, env: envelope{Code: codeSystemBusy, Message: "System busy, please contact CJ IT"}}
	}
	rep := s.placeLocked(body)
	if rep.env.Code == codeOK && s.srv.TakeLostReply() {
		return reply{status: http.StatusInternalServerError, env: envelope{Code: codeSystemBusy, Message: "System busy, please contact CJ IT"}}
	}
	return rep
}

type createdData struct {
	OrderNumber     string `json:"orderNumber"`
	OrderID         string `json:"orderId"`
	ShipmentOrderID string `json:"shipmentOrderId"`
	PostageAmount   number `json:"postageAmount"`
	ProductAmount   number `json:"productAmount"`
	OrderAmount     number `json:"orderAmount"`
	CJPayURL        string `json:"cjPayUrl"`
	OrderStatus     string `json:"orderStatus"`
	// InterceptOrderReasons is empty: the fake intercepts nothing.
	InterceptOrderReasons []any `json:"interceptOrderReasons"`
}

func (s *Server) placeLocked(body []byte) reply {
	var req PlaceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(16900205, "The request parameter is not in a correct JSON format")
	}
	for _, f := range []struct{ name, value string }{
		{"orderNumber", req.OrderNumber}, {"shippingCountryCode", req.ShippingCountryCode},
		{"shippingCountry", req.ShippingCountry}, {"shippingProvince", req.ShippingProvince},
		{"shippingCity", req.ShippingCity}, {"shippingCustomerName", req.ShippingCustomerName},
		{"shippingAddress", req.ShippingAddress}, {"logisticName", req.LogisticName},
		{"fromCountryCode", req.FromCountryCode},
	} {
		if strings.TrimSpace(f.value) == "" {
			// CJ quotes what it got; dropsync must not repeat customer data it may hold.
			return fail(codeParamEmpty, "%s can not be empty (order for %s, %s)", f.name, req.ShippingCustomerName, req.ShippingCity)
		}
	}
	if utf8.RuneCountInString(req.OrderNumber) > 50 {
		return fail(codeParam, "orderNumber length can not exceed 50")
	}
	if _, dup := s.byNum[req.OrderNumber]; dup {
		return fail(codeOrderExists, "Order exist, please do not duplicate create")
	}
	if len(s.opts.Logistics) > 0 && !slices.Contains(s.opts.Logistics, req.LogisticName) {
		return fail(codeLogisticUnknown, "Logistic not found")
	}
	if len(s.opts.Countries) > 0 && !slices.Contains(s.opts.Countries, strings.ToUpper(req.ShippingCountryCode)) {
		return fail(codeLogisticInvalid, "Logistic invalid, please reference freight calculate.")
	}
	if len(req.Products) == 0 {
		return fail(codeParamEmpty, "products can not be empty")
	}
	var lines []OrderProduct
	want := map[string]int{}
	sum := decimal.Zero
	for i, p := range req.Products {
		var v *Variant
		switch {
		case p.VID != "":
			v = s.variants[p.VID]
		case p.SKU != "":
			v = s.variant("sku:" + p.SKU)
		}
		if v == nil {
			return fail(codeVariantNotFound, "Variant not found")
		}
		if p.Quantity <= 0 {
			return fail(codeParam, "products[%d].quantity must be positive", i)
		}
		want[v.VID] += p.Quantity
		price := decimal.RequireFromString(v.Price)
		sum = sum.Add(price.Mul(decimal.NewFromInt(int64(p.Quantity))))
		lines = append(lines, OrderProduct{VID: v.VID, Quantity: p.Quantity, SellPrice: number(price.String()),
			LineItemID: strconv.Itoa(2505170958390976500 + i)})
	}
	payType := string(req.PayType)
	unpaid, unpaidCode := false, 0
	if payType == "2" {
		unpaid, unpaidCode = s.takeUnpaid()
	}
	if payType == "2" && !unpaid {
		// Balance payment deducts the stock of the shipping warehouse at once.
		for vid, n := range want {
			v := s.variants[vid]
			if !strings.EqualFold(v.Warehouse, req.FromCountryCode) || v.Stock < n {
				return fail(codeInventoryFail, "Inventory deduction fail, please contact CJ Agent")
			}
		}
		for vid, n := range want {
			s.variants[vid].Stock -= n
		}
	}
	now := s.now()
	s.seq++
	id := strconv.FormatInt(s.seq, 10)
	status, paid := StatusUnpaid, ""
	switch {
	case payType == "2" && !unpaid:
		status, paid = StatusUnshipped, now.Format(time.DateTime)
	case payType == "3":
		status = StatusCreated
	}
	postage := decimal.RequireFromString("3.68")
	o := &Order{
		OrderID: id, OrderNum: req.OrderNumber, CJOrderID: "SD" + id,
		ShippingCountryCode: strings.ToUpper(req.ShippingCountryCode), ShippingProvince: req.ShippingProvince,
		ShippingCity: req.ShippingCity, ShippingPhone: req.ShippingPhone, ShippingAddress: req.ShippingAddress,
		ShippingCustomerName: req.ShippingCustomerName, Remark: req.Remark, OrderStatus: status,
		OrderAmount: number(sum.Add(postage).StringFixed(2)), ProductAmount: number(sum.StringFixed(2)),
		PostageAmount: number(postage.StringFixed(2)), LogisticName: req.LogisticName,
		CreateDate: now.Format(time.DateTime), PaymentDate: paid, IsComplete: 1,
		FromCountryCode: req.FromCountryCode, ProductList: lines, Placed: req,
	}
	s.orders[id] = o
	s.byNum[o.OrderNum] = o
	s.list = append(s.list, o)
	s.placedAt[id] = now
	s.srv.CountCreated()
	d := createdData{OrderNumber: o.OrderNum, OrderID: id, ShipmentOrderID: "SP" + id, PostageAmount: o.PostageAmount,
		ProductAmount: o.ProductAmount, OrderAmount: o.OrderAmount, OrderStatus: status, InterceptOrderReasons: []any{}}
	if status == StatusUnpaid {
		d.CJPayURL = "https://cjdropshipping.com/pay?order=" + id
	}
	if unpaidCode != 0 {
		return fail(unpaidCode, "%s", unpaidMessages[unpaidCode])
	}
	return ok(d)
}

// unpaidMessages are CJ's words for the payment failures UnpaidNext answers with.
var unpaidMessages = map[int]string{
	codeOrderPayFail:   "Order payment failed",
	codeBalance:        "Insufficient balance, please recharge",
	codeBalanceBlocked: "Balance payment is not available for this account",
}

// find resolves getOrderDetail's orderId: a CJ order id or the merchant's order number.
func (s *Server) find(id string) *Order {
	if o, ok := s.orders[id]; ok {
		return o
	}
	return s.byNum[id]
}

func (s *Server) detail(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		return fail(codeParam, "orderId must be not empty")
	}
	o := s.find(id)
	if o == nil {
		return fail(codeParam, "order not found")
	}
	return ok(o.clone())
}

func (s *Server) delete(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return fail(codeParam, "order not found")
	}
	switch o.OrderStatus {
	case StatusCreated, StatusInCart, StatusUnpaid, StatusCancelled:
	default:
		// Confirmed orders cannot be deleted.
		return fail(codeOrderDeleteFail, "Order delete fail")
	}
	o.OrderStatus = StatusCancelled
	return ok(id)
}

type variantData struct {
	VID              string `json:"vid"`
	PID              string `json:"pid"`
	VariantNameEn    string `json:"variantNameEn"`
	VariantSku       string `json:"variantSku"`
	VariantSellPrice number `json:"variantSellPrice"`
}

func (v *Variant) data() variantData {
	return variantData{VID: v.VID, PID: v.ProductID, VariantNameEn: v.Name, VariantSku: v.SKU, VariantSellPrice: number(v.Price)}
}

func (s *Server) variantByVid(vid string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.variants[vid]
	if v == nil {
		return fail(codeVariantNotFound, "Variant not found")
	}
	return ok(v.data())
}

type stockData struct {
	VID                 string `json:"vid"`
	AreaID              string `json:"areaId"`
	AreaEn              string `json:"areaEn"`
	CountryCode         string `json:"countryCode"`
	StorageNum          int    `json:"storageNum"`
	TotalInventoryNum   int    `json:"totalInventoryNum"`
	CJInventoryNum      int    `json:"cjInventoryNum"`
	FactoryInventoryNum int    `json:"factoryInventoryNum"`
}

func (s *Server) stockByVid(vid string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.variants[vid]
	if v == nil {
		return fail(codeVariantNotFound, "Variant not found")
	}
	rows := []stockData{{VID: v.VID, AreaID: "1", AreaEn: v.Warehouse + " Warehouse", CountryCode: v.Warehouse,
		StorageNum: max(v.Stock, 0), TotalInventoryNum: max(v.Stock, 0), CJInventoryNum: max(v.Stock, 0)}}
	if v.Warehouse != "US" {
		// Another warehouse's stock must not count for the shipping one.
		rows = append(rows, stockData{VID: v.VID, AreaID: "2", AreaEn: "US Warehouse", CountryCode: "US",
			StorageNum: 36, TotalInventoryNum: 36, CJInventoryNum: 36})
	}
	return ok(rows)
}

func (s *Server) product(variantSKU string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.variant("sku:" + variantSKU)
	if v == nil {
		return fail(codeProductNotFound, "Product not found")
	}
	var variants []variantData
	for _, x := range s.variants {
		if x.ProductID == v.ProductID {
			variants = append(variants, x.data())
		}
	}
	slices.SortFunc(variants, func(a, b variantData) int { return strings.Compare(a.VID, b.VID) })
	return ok(map[string]any{"pid": v.ProductID, "productNameEn": v.Name, "variants": variants})
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
