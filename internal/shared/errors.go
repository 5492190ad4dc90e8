package shared

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// asRedisError finds an error reply from the server in err's chain.
func asRedisError(err error, target *redis.Error) bool { return errors.As(err, target) }
