"""A retention run and an upload of identical bytes racing each other must not leave a row without its file."""

from __future__ import annotations

import os
import time

from sqlalchemy import select

from helpers import COLLECT_HEADERS, SIMPLE_FORM_MD, instance, make_phone, make_project, multipart, publish, xform
from samen.blobs import BlobStore
from samen.models import SubmissionAttachment


def test_putting_bytes_that_exist_marks_them_wanted_again(tmp_path):
    blobs = BlobStore(tmp_path)
    digest = blobs.put(b"photo")
    os.utime(blobs.path(digest), (1, 1))
    before_put = time.time()
    assert blobs.put(b"photo") == digest
    assert not blobs.delete_if_untouched_since(digest, before_put)  # an upload claimed it after clean-up began
    assert blobs.delete_if_untouched_since(digest, time.time() + 1)
    assert not blobs.exists(digest)


class VanishingOnce(BlobStore):
    """Stands in for a retention run that unlinks the file between an upload's put and its commit."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.vanished = False

    def put(self, data: bytes) -> str:
        digest = super().put(data)
        if not self.vanished:
            self.vanished = True
            self.path(digest).unlink()
        return digest


def test_a_file_removed_while_its_upload_was_in_flight_is_put_back_after_the_commit(app, services):
    services.blobs = VanishingOnce(services.blobs.root)
    project_id = make_project(services)
    publish(services, project_id, xform(SIMPLE_FORM_MD))
    phone = make_phone(services, project_id, ["simple"])
    xml, _ = instance("simple", "2026110101", {"city": "utrecht", "photo": "p.jpg"})
    response = app.test_client().post(f"{phone.prefix}/submission", data=multipart(xml, {"p.jpg": b"\xff\xd8 photo"}),
                                      headers=COLLECT_HEADERS, content_type="multipart/form-data")
    assert response.status_code == 201
    with services.database.session() as session:
        [attachment] = session.scalars(select(SubmissionAttachment)).all()
    assert services.blobs.get(attachment.blob_sha256) == b"\xff\xd8 photo"
