"""The native face-registry API: ``/api/spaces/<number>/…`` (persons, faces, enroll, recognize).

A token caller works in its API client's spaces (the same ones its VK ``persons/*`` calls use);
a browser session works in the user's own web spaces.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import ApiClient
from apps.common.images import read_upload
from apps.face_registry import services as faces
from apps.face_registry.models import Face, Person, Space

from .serializers import ProblemSerializer
from .views import PROBLEM, PROBLEMS


class FaceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    person_id = serializers.IntegerField(source="person.person_id", read_only=True)
    box = serializers.SerializerMethodField()

    class Meta:
        model = Face
        fields = ["id", "person_id", "box", "image_name", "created_at"]

    def get_box(self, face: Face) -> list[int]:
        return [face.left, face.top, face.right, face.bottom]


class PersonSerializer(serializers.ModelSerializer):
    tag = serializers.CharField(read_only=True)
    faces = serializers.IntegerField(source="faces.count", read_only=True)

    class Meta:
        model = Person
        fields = ["person_id", "tag", "name", "faces", "created_at"]


class EnrollSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    person_id = serializers.IntegerField(min_value=0, max_value=faces.MAX_PERSON_ID)


class RecognizeSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    create_new = serializers.BooleanField(default=False)


class RecognizedPersonSerializer(serializers.Serializer):
    """One face of a recognize answer (apps.face_registry.services.RecognizedFace)."""

    person_id = serializers.IntegerField(
        allow_null=True, help_text="The matched person; null when the face is like nobody here."
    )
    tag = serializers.CharField(help_text='"person<person_id>", or "undefined" for nobody.')
    coord = serializers.ListField(
        source="box", child=serializers.IntegerField(), min_length=4, max_length=4,
        help_text="left, top, right, bottom in the photo's pixels",
    )
    aliases = serializers.ListField(
        child=serializers.CharField(), help_text="Other persons the face also matches, closest first."
    )
    new = serializers.BooleanField(
        source="created", help_text="This request created the person (create_new)."
    )
    similarity = serializers.FloatField(
        allow_null=True, help_text="Cosine similarity to the person; null for nobody."
    )
    confidence = serializers.FloatField(help_text="0..1: how sure the detector is.")
    awesomeness = serializers.FloatField()
    frontality = serializers.FloatField()
    visibility = serializers.FloatField(help_text="The share of the face inside the photo.")
    # Null when the optional model is not installed (/healthz faces.attributes says why).
    sex = serializers.ChoiceField(choices=["male", "female"], allow_null=True)
    age = serializers.IntegerField(allow_null=True)
    emotion = serializers.CharField(allow_null=True, help_text='"happy", "sad", "neutral", …')
    valence = serializers.FloatField(allow_null=True)
    arousal = serializers.FloatField(allow_null=True)


class RecognizedSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    persons = RecognizedPersonSerializer(source="faces", many=True)
    aliases_changed = serializers.BooleanField(
        source="persons_created", help_text="This request created persons."
    )


class SpaceViewSet(viewsets.ViewSet):
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    serializer_class = PersonSerializer

    def space(self, number: str, create: bool = True) -> Space:
        # ASCII digits only: "¹".isdigit() is true, yet int() refuses it (a 500, found by the fuzz).
        if len(number) != 1 or number not in "0123456789":
            raise Http404
        client = self.request.auth if isinstance(self.request.auth, ApiClient) else None
        try:
            return faces.get_space(self.request.user, int(number), client=client, create=create)
        except Space.DoesNotExist:
            raise Http404 from None

    @extend_schema(responses={200: PersonSerializer(many=True), **PROBLEMS})
    @action(detail=True, methods=["get"])
    def persons(self, request: Request, number: str) -> Response:
        persons = Person.objects.filter(space=self.space(number)).prefetch_related("faces")
        return Response(PersonSerializer(persons.order_by("person_id"), many=True).data)

    @extend_schema(responses={204: None, **PROBLEMS})
    @action(detail=True, methods=["delete"], url_path=r"persons/(?P<person_id>[0-9]{1,10})",
            url_name="person")
    def delete_person(self, request: Request, number: str, person_id: str) -> Response:
        if not faces.delete_person(self.space(number), int(person_id)):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: FaceSerializer(many=True), **PROBLEMS})
    @action(detail=True, methods=["get"], url_path=r"persons/(?P<person_id>[0-9]{1,10})/faces",
            url_name="person-faces")
    def person_faces(self, request: Request, number: str, person_id: str) -> Response:
        person = Person.objects.filter(space=self.space(number), person_id=int(person_id)).first()
        if person is None:
            raise Http404
        found = Face.objects.filter(person=person).select_related("person").order_by("created_at")
        return Response(FaceSerializer(found, many=True).data)

    @extend_schema(
        request={"multipart/form-data": EnrollSerializer},
        responses={201: FaceSerializer, **PROBLEMS,
                   (422, PROBLEM): OpenApiResponse(ProblemSerializer, description="Not one face")},
    )
    @action(detail=True, methods=["post"])
    def enroll(self, request: Request, number: str) -> Response:
        form = EnrollSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        picture = faces.decode(read_upload(upload))  # decoded once, refused before anything
        face = faces.set_face(
            self.space(number), form.validated_data["person_id"], picture, upload.name or "face"
        )
        return Response(FaceSerializer(face).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": RecognizeSerializer},
        responses={200: RecognizedSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def recognize(self, request: Request, number: str) -> Response:
        form = RecognizeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        picture = faces.decode(read_upload(upload))
        result = faces.recognize(self.space(number), picture, upload.name or "photo",
                                 form.validated_data["create_new"])
        return Response(RecognizedSerializer(result).data)

    @extend_schema(request=None, responses={204: None, **PROBLEMS})
    @action(detail=True, methods=["post"])
    def truncate(self, request: Request, number: str) -> Response:
        faces.truncate(self.space(number))
        return Response(status=status.HTTP_204_NO_CONTENT)
