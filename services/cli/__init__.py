"""The `baiying` operator command."""
