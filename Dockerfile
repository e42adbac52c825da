# syntax=docker/dockerfile:1
# Build: a static binary. Runtime: distroless, non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/dropsync ./cmd/dropsync

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/dropsync /usr/local/bin/dropsync
COPY configs/ /app/configs/
USER nonroot:nonroot
EXPOSE 8080
ENV DROPSYNC_HTTP_ADDR=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/dropsync"]
CMD ["run", "--config", "/app/configs/dropsync.yaml"]
