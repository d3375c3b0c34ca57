#!/bin/sh
# /usr/bin/vqa-studio: the installed one-folder app under /opt/vqa-studio (a wrapper rather than a
# symlink, so the bundle always finds its own folder whatever the link resolution does).
exec /opt/vqa-studio/vqa-studio "$@"
